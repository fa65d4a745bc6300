import { logger } from '@analytics/common';

export interface BacklogSample {
  at: number;
  waiting: number;
}

/** A backlog that has not shrunk for this long is called stalled (in /health and in the log). */
export const STALLED_AFTER_MS = 30_000;

/**
 * Follows the number of waiting jobs over time, so a backlog that does not shrink is visible in /health
 * (`backlog.trend`, `backlog.not_shrinking_for_ms`) and in the log (a warning every 30 s while it
 * lasts, with the writer's state), instead of being a silent stall.
 */
export class BacklogWatch {
  private samples: BacklogSample[] = [];
  /** When the backlog was last seen smaller than the sample before (or empty). */
  private lastProgressAt = Date.now();
  private lastWarningAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly countWaiting: () => Promise<number>,
    private readonly describeWriter: () => Record<string, unknown>,
    intervalMs = 5000,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  async sample(now = Date.now()): Promise<void> {
    let waiting: number;
    try {
      waiting = await this.countWaiting();
    } catch {
      return; // Redis unreachable: /health says so through its checks.
    }
    const previous = this.samples.at(-1);
    if (waiting === 0 || (previous !== undefined && waiting < previous.waiting)) this.lastProgressAt = now;
    this.samples.push({ at: now, waiting });
    if (this.samples.length > 12) this.samples.shift();
    const stalledMs = now - this.lastProgressAt;
    if (waiting > 0 && stalledMs >= STALLED_AFTER_MS && now - this.lastWarningAt >= STALLED_AFTER_MS) {
      this.lastWarningAt = now;
      logger.warn('backlog not shrinking', {
        waiting,
        notShrinkingForMs: stalledMs,
        writer: this.describeWriter(),
      });
    }
  }

  status() {
    const last = this.samples.at(-1);
    const first = this.samples[0];
    let trend: 'empty' | 'shrinking' | 'growing' | 'flat' | 'unknown' = 'unknown';
    if (last && first) {
      if (last.waiting === 0) trend = 'empty';
      else if (last.waiting < first.waiting) trend = 'shrinking';
      else if (last.waiting > first.waiting) trend = 'growing';
      else trend = 'flat';
    }
    const notShrinkingForMs = last && last.waiting > 0 ? Date.now() - this.lastProgressAt : 0;
    return {
      trend,
      not_shrinking_for_ms: notShrinkingForMs,
      stalled: notShrinkingForMs >= STALLED_AFTER_MS,
      samples: this.samples.map((s) => s.waiting),
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
