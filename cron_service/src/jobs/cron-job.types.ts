/** Every job the cron service knows; also the id of each one's BullMQ job scheduler. */
export const CRON_JOB_NAMES = ['retention', 'heartbeat', 'site-deletion', 'user-erasure'] as const;
export type CronJobName = (typeof CRON_JOB_NAMES)[number];

export function isCronJobName(name: string): name is CronJobName {
  return (CRON_JOB_NAMES as readonly string[]).includes(name);
}

/** What a run did, as recorded in job_runs and printed by `npm run job`. */
export interface JobResult {
  /** Documents deleted (raw events for retention; events, rollups and manifests for site-deletion). */
  removed: number;
  /** Delete batches it took. */
  batches: number;
  /** Old job_runs documents trimmed (retention only). */
  historyRemoved?: number;
  /** Raw custom-metric points deleted (retention only; logged, not stored in job_runs). */
  metricPointsRemoved?: number;
}

export interface JobContext {
  /** Aborted on shutdown: a long job stops between two batches instead of holding the exit. */
  signal: AbortSignal;
  /** The job counts into this as it goes, so a run that fails halfway still records what it removed. */
  progress: JobResult;
}

export interface CronJob {
  name: CronJobName;
  /** How often the schedule runs it; /health calls it overdue after two intervals without a success. */
  intervalMs: number;
  /**
   * Runs must not overlap: a tick that finds the previous run still going is skipped (a retention run on a
   * large backlog can outlast its interval; two would only compete for the same documents).
   */
  exclusive: boolean;
  run(context: JobContext): Promise<void>;
}

/** Thrown into a running job when the service shuts down; the run is recorded as an error. */
export class JobInterruptedError extends Error {
  constructor() {
    super('interrupted by shutdown');
    this.name = 'JobInterruptedError';
  }
}
