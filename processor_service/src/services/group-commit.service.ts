import { AdaptiveBatchLimit } from './adaptive-batch-limit.service';

/** What a write reported, for the limit and for /health. */
export interface WriteOutcome {
  items: number;
  jobs: number;
  durationMs: number;
  error?: unknown;
}

export type WriterState = 'idle' | 'writing' | 'backing-off';

export interface WriteHooks {
  /** After each failed write, before its jobs are rejected (the database back-off). */
  afterFailure?: (outcome: WriteOutcome) => Promise<void>;
  /** After a write that succeeded but took longer than the limit's target. */
  afterSlowWrite?: (outcome: WriteOutcome) => void;
  /** After every write, failed or not (the batch-size and write-time metrics). */
  afterWrite?: (outcome: WriteOutcome) => void;
}

/**
 * Group commit: jobs that arrive while a write is under way wait and go together in the next one, so
 * the number of MongoDB round trips follows the number of writes, not the number of jobs. At low load a
 * job's events are written at once (no timer); at high load a write takes whole jobs, oldest first, up
 * to the adaptive limit (adaptive-batch-limit.ts), always at least one job.
 * A failed write fails every job in it; the queue then runs each again, in smaller writes.
 */
/** One job's items and how far the writes have got through them. */
interface PendingJob<T> {
  items: T[];
  /** Items before this index are in a write (under way or done). */
  taken: number;
  /** Writes holding some of its items that have not finished yet. */
  inFlight: number;
  failed: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  /** Jobs with items not yet taken by a write, oldest first. */
  private pending: PendingJob<T>[] = [];
  private writing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;
  private current: WriterState = 'idle';
  private last: WriteOutcome | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<unknown>,
    readonly limit: AdaptiveBatchLimit,
    private readonly hooks: WriteHooks = {},
  ) {}

  /** Resolves once writes holding all of `items` have succeeded; rejects when one of them failed. */
  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ items, taken: 0, inFlight: 0, failed: false, resolve, reject });
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
      const { items, jobs } = this.takeBatch();
      const started = Date.now();
      this.current = 'writing';
      try {
        await this.write(items);
        this.last = { items: items.length, jobs: jobs.length, durationMs: Date.now() - started };
        this.hooks.afterWrite?.(this.last);
        const slow = this.limit.succeeded(items.length, this.last.durationMs);
        if (slow) this.hooks.afterSlowWrite?.(this.last);
        for (const job of jobs) this.finishSlice(job);
      } catch (error) {
        this.last = { items: items.length, jobs: jobs.length, durationMs: Date.now() - started, error };
        this.hooks.afterWrite?.(this.last);
        this.limit.failed(items.length);
        this.current = 'backing-off';
        await this.hooks.afterFailure?.(this.last).catch(() => undefined);
        for (const job of jobs) this.finishSlice(job, error);
      }
    }
    this.current = 'idle';
    this.writing = false;
    this.markIdle?.();
  }

  /**
   * Items up to the limit, oldest job first. A job larger than the limit is split across writes (a
   * write is idempotent, so a job whose first part was stored and second part failed is simply run
   * again whole), so a write that timed out is never tried again at the same size, down to one item.
   */
  private takeBatch(): { items: T[]; jobs: PendingJob<T>[] } {
    const max = this.limit.current;
    const items: T[] = [];
    const jobs: PendingJob<T>[] = [];
    while (this.pending.length > 0 && items.length < max) {
      const job = this.pending[0]!;
      const slice = job.items.slice(job.taken, job.taken + (max - items.length));
      items.push(...slice);
      job.taken += slice.length;
      job.inFlight += 1;
      jobs.push(job);
      if (job.taken >= job.items.length) this.pending.shift();
    }
    return { items, jobs };
  }

  private finishSlice(job: PendingJob<T>, error?: unknown): void {
    job.inFlight -= 1;
    if (error !== undefined && !job.failed) {
      job.failed = true;
      // Its remaining items need not be written: the queue runs the whole job again.
      const index = this.pending.indexOf(job);
      if (index >= 0) this.pending.splice(index, 1);
      job.reject(error);
      return;
    }
    if (!job.failed && job.inFlight === 0 && job.taken >= job.items.length) job.resolve();
  }
}
