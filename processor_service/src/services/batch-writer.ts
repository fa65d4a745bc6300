import { AdaptiveBatchLimit } from './adaptive-batch-limit';

/** What a write reported, for the limit and for /health. */
export interface WriteOutcome {
  items: number;
  jobs: number;
  durationMs: number;
  error?: unknown;
}

export type WriterState = 'idle' | 'writing' | 'backing-off';

/**
 * Group commit: jobs that arrive while a write is under way wait and go together in the next one, so
 * the number of MongoDB round trips follows the number of writes, not the number of jobs. At low load a
 * job's events are written at once (no timer); at high load a write takes whole jobs, oldest first, up
 * to the adaptive limit (adaptive-batch-limit.ts), always at least one job.
 * A failed write fails every job in it; the queue then runs each again, in smaller writes.
 */
export class BatchWriter<T> {
  private pending: { items: T[]; settle: { resolve: () => void; reject: (error: unknown) => void } }[] = [];
  private writing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  private current: WriterState = 'idle';
  private last: WriteOutcome | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<unknown>,
    readonly limit: AdaptiveBatchLimit,
    /** Called after each failed write, before its jobs are rejected (the database back-off). */
    private readonly afterFailure: (outcome: WriteOutcome) => Promise<void> = async () => undefined,
  ) {}

  /** Resolves once a write holding `items` has succeeded. */
  add(items: T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, settle: { resolve, reject } });
      if (!this.writing) {
        this.writing = true;
        this.idle = new Promise((done) => (this.markIdle = done));
        // Let the jobs that start in the same tick join this write.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves when nothing is being written or waiting (for shutdown). */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  /** For /health: what the writer does now, its limit, and its last write. */
  status() {
    return {
      state: this.current,
      batch_limit: this.limit.current,
      waiting_jobs: this.pending.length,
      consecutive_failures: this.limit.consecutiveFailures,
      last_write: this.last
        ? {
            events: this.last.items,
            jobs: this.last.jobs,
            duration_ms: this.last.durationMs,
            ok: this.last.error === undefined,
          }
        : null,
    };
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      const items = batch.flatMap((entry) => entry.items);
      const started = Date.now();
      this.current = 'writing';
      try {
        await this.write(items);
        this.last = { items: items.length, jobs: batch.length, durationMs: Date.now() - started };
        this.limit.succeeded(items.length, this.last.durationMs);
        for (const entry of batch) entry.settle.resolve();
      } catch (error) {
        this.last = { items: items.length, jobs: batch.length, durationMs: Date.now() - started, error };
        this.limit.failed(items.length);
        this.current = 'backing-off';
        await this.afterFailure(this.last).catch(() => undefined);
        for (const entry of batch) entry.settle.reject(error);
      }
    }
    this.current = 'idle';
    this.writing = false;
    this.markIdle?.();
  }

  /** Whole jobs, oldest first, up to the item limit (always at least one job). */
  private takeBatch(): typeof this.pending {
    const max = this.limit.current;
    let count = 0;
    let take = 0;
    while (take < this.pending.length) {
      const size = this.pending[take]!.items.length;
      if (take > 0 && count + size > max) break;
      count += size;
      take += 1;
    }
    return this.pending.splice(0, take);
  }
}
