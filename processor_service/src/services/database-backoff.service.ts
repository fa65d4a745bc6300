import { logger, toAppError } from '@analytics/common';
import type { WriteOutcome } from './group-commit.service';

/** Longest pause of the whole queue while MongoDB does not answer. */
export const MAX_DATABASE_PAUSE_MS = 5000;

/** A cause is logged at most this often; the lines in between are counted in the next one. */
const LOG_EVERY_MS = 1000;

/** The innermost error: the driver's or the timeout's, not the 503 wrapped around it. */
function rootCause(error: unknown): { name: string; message: string } {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const next = (current as { cause?: unknown } | undefined)?.cause;
    if (next === undefined || next === null) break;
    current = next;
  }
  return current instanceof Error
    ? { name: current.name, message: current.message }
    : { name: 'unknown', message: String(current) };
}

/**
 * While MongoDB is unreachable or too slow, a failed write pauses the whole queue (BullMQ's manual rate
 * limit) once, instead of spending its jobs' attempts: they go back to waiting, untouched, and are tried
 * again after 1, 2, 4, then every 5 s, in a smaller write (adaptive-batch-limit.ts). So an outage of any
 * length delays events but never fails them for good; attempts are left for errors that retrying can
 * fix only a few times. Each pause says why, at most once per second per cause.
 */
export class DatabaseBackoff {
  private failures = 0;
  private lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly pauseQueue: (ms: number) => Promise<void>) {}

  /** Whether the error means the database is unavailable (a 503 in the API's terms). */
  static isUnavailable(error: unknown): boolean {
    return toAppError(error).status === 503;
  }

  /** After a failed write: pauses the queue when the database is the cause; logs why either way. */
  async afterFailedWrite(outcome: WriteOutcome, nextBatchLimit: number): Promise<void> {
    const unavailable = DatabaseBackoff.isUnavailable(outcome.error);
    const cause = rootCause(outcome.error);
    const pauseMs = unavailable ? Math.min(1000 * 2 ** this.failures, MAX_DATABASE_PAUSE_MS) : 0;
    if (unavailable) this.failures += 1;
    const message = unavailable ? 'database write failed; pausing the queue' : 'database write failed';
    this.log(`${cause.name}: ${cause.message}`, message, {
      errorName: cause.name,
      errorMessage: cause.message,
      batchEvents: outcome.items,
      batchJobs: outcome.jobs,
      elapsedMs: outcome.durationMs,
      consecutiveFailures: this.failures,
      nextBatchLimit,
      pauseMs,
    });
    if (unavailable) await this.pauseQueue(pauseMs);
  }

  /** After a write that succeeded slower than the target: says so, with the smaller next batch. */
  slowWrite(outcome: WriteOutcome, nextBatchLimit: number): void {
    this.log('slow write', 'database write slower than the target; next batch smaller', {
      batchEvents: outcome.items,
      batchJobs: outcome.jobs,
      elapsedMs: outcome.durationMs,
      nextBatchLimit,
    });
  }

  succeeded(): void {
    this.failures = 0;
  }

  private log(cause: string, message: string, meta: Record<string, unknown>): void {
    const now = Date.now();
    const seen = this.lastLogged.get(cause);
    if (seen && now - seen.at < LOG_EVERY_MS) {
      seen.suppressed += 1;
      return;
    }
    logger.warn(message, { ...meta, sameCauseSinceLastLine: seen?.suppressed ?? 0 });
    this.lastLogged.set(cause, { at: now, suppressed: 0 });
    if (this.lastLogged.size > 100) this.lastLogged.clear();
  }
}
