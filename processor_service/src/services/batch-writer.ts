/**
 * Group commit: jobs that arrive while a write is under way wait and go together in the next one, so
 * the number of MongoDB round trips follows the number of writes, not the number of jobs. At low load a
 * job's events are written at once (no timer), at high load batches grow up to `maxBatchItems`.
 * A failed write fails every job in it; each is then retried on its own by the queue.
 */
export class BatchWriter<T> {
  private pending: { items: T[]; settle: { resolve: () => void; reject: (error: unknown) => void } }[] = [];
  private writing = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<unknown>,
    private readonly maxBatchItems: number,
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

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.write(batch.flatMap((entry) => entry.items));
        for (const entry of batch) entry.settle.resolve();
      } catch (error) {
        for (const entry of batch) entry.settle.reject(error);
      }
    }
    this.writing = false;
    this.markIdle?.();
  }

  /** Whole jobs, oldest first, up to the item limit (always at least one job). */
  private takeBatch(): typeof this.pending {
    let count = 0;
    let take = 0;
    while (take < this.pending.length) {
      const size = this.pending[take]!.items.length;
      if (take > 0 && count + size > this.maxBatchItems) break;
      count += size;
      take += 1;
    }
    const batch = this.pending.splice(0, take);
    return batch;
  }
}
