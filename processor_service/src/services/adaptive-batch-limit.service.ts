export interface AdaptiveBatchLimitOptions {
  /** Events in the first write, and never more than `max`. */
  initial: number;
  max: number;
  /** A write slower than this counts as a warning that the database is struggling. */
  targetMs: number;
}

/**
 * How many events the processor puts in one write (AIMD, as TCP sizes its window):
 * - a write that failed halves the limit below that write's size, so a batch that timed out is never
 *   tried again at the same size (down to one job, which a write always takes whole);
 * - a write slower than `targetMs` halves it too;
 * - a write within `targetMs` that used at least half the limit grows it by half (at least 1), up to
 *   `max`; so a limit that fell to 1 is back at 1,000 within about 17 writes. (Growing only on writes
 *   well under the target left a dead zone: at one event per write the fixed cost of a write alone could
 *   sit between half the target and the target, and the limit never grew again.)
 * docs/configuration.md lists the variables (MAX_BATCH_EVENTS, INITIAL_BATCH_EVENTS, WRITE_TARGET_MS).
 */
export class AdaptiveBatchLimit {
  private limit: number;
  private failures = 0;

  constructor(private readonly options: AdaptiveBatchLimitOptions) {
    this.limit = Math.max(1, Math.min(options.initial, options.max));
  }

  get current(): number {
    return this.limit;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Records a successful write; true when it was slower than the target (and the limit shrank). */
  succeeded(items: number, durationMs: number): boolean {
    this.failures = 0;
    if (durationMs > this.options.targetMs) {
      this.limit = Math.max(1, Math.floor(Math.min(this.limit, items) / 2));
      return true;
    }
    if (items >= this.limit / 2) {
      // Only a write that used the limit says the limit can grow (a quiet queue says nothing).
      this.limit = Math.min(this.options.max, this.limit + Math.max(1, Math.floor(this.limit / 2)));
    }
    return false;
  }

  failed(items: number): void {
    this.failures += 1;
    this.limit = Math.max(1, Math.floor(Math.min(this.limit, items) / 2));
  }
}
