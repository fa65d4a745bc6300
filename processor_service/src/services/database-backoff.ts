import { logger, toAppError } from '@analytics/common';

/** Longest pause of the whole queue while MongoDB does not answer. */
export const MAX_DATABASE_PAUSE_MS = 5000;

/**
 * While MongoDB is unreachable or too slow, a failed batch pauses the whole queue (BullMQ's manual rate
 * limit) instead of spending the jobs' attempts: they go back to waiting, untouched, and are tried again
 * after 1, 2, 4, then every 5 s. So an outage of any length delays events but never fails them for good;
 * attempts are left for errors that retrying can fix only a few times.
 */
export class DatabaseBackoff {
  private failures = 0;
  private pausedUntil = 0;

  constructor(private readonly pauseQueue: (ms: number) => Promise<void>) {}

  /** Whether the error means the database is unavailable (a 503 in the API's terms). */
  static isUnavailable(error: unknown): boolean {
    return toAppError(error).status === 503;
  }

  async pause(): Promise<void> {
    this.failures += 1;
    const ms = Math.min(1000 * 2 ** (this.failures - 1), MAX_DATABASE_PAUSE_MS);
    logger.warn('database unavailable; pausing the queue', {
      pauseMs: ms,
      consecutiveFailures: this.failures,
    });
    await this.pauseQueue(ms);
  }

  succeeded(): void {
    this.failures = 0;
  }
}
