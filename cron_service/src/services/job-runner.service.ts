import { errorMeta, logger } from '@analytics/common';
import type { CronJob, JobResult } from '../jobs/cron-job.types';
import type { JobRunDocument, JobTrigger } from '../models/job-run.model';
import type { JobRunRepository } from '../repositories/job-run.repository';

export interface RunRequest {
  trigger: JobTrigger;
  /** The BullMQ job of a scheduled run. */
  queueJobId?: string;
  signal: AbortSignal;
}

/** Recorded error messages are cut here: a driver's message can be long, and job_runs is read by /health. */
const MAX_ERROR_LENGTH = 500;

/** Thrown by JobRunner.run for a run that failed; it carries the run as recorded. */
export class JobRunError extends Error {
  constructor(
    readonly run: JobRunDocument,
    cause: unknown,
  ) {
    super(run.error ?? 'job failed', { cause });
    this.name = 'JobRunError';
  }
}

/**
 * Runs one job and records it in job_runs: a document when it starts, completed with the outcome when it
 * ends. The scheduled worker and `npm run job` both run jobs through here, so both are recorded alike.
 */
export class JobRunner {
  constructor(
    private readonly runs: JobRunRepository,
    private readonly instance: string,
    private readonly now: () => Date = () => new Date(),
    /** Told of every finished run (the cron_runs metric). */
    private readonly onFinished: (job: string, outcome: 'ok' | 'error') => void = () => undefined,
  ) {}

  /**
   * Resolves with the finished run when it succeeded. A failed run is recorded (with what it removed
   * before failing), then rejected as a JobRunError. A failure to record the start rejects as it is.
   */
  async run(job: CronJob, request: RunRequest): Promise<JobRunDocument> {
    const startedAt = this.now();
    const id = await this.runs.start({
      job: job.name,
      trigger: request.trigger,
      queueJobId: request.queueJobId,
      instance: this.instance,
      startedAt,
    });
    const progress: JobResult = { removed: 0, batches: 0 };
    const run: JobRunDocument = {
      job: job.name,
      trigger: request.trigger,
      instance: this.instance,
      started_at: startedAt,
      removed: 0,
      batches: 0,
    };
    if (request.queueJobId !== undefined) run.queue_job_id = request.queueJobId;

    let failure: { error: unknown } | undefined;
    try {
      await job.run({ signal: request.signal, progress });
    } catch (error) {
      failure = { error };
    }
    const finishedAt = this.now();
    run.finished_at = finishedAt;
    run.outcome = failure ? 'error' : 'ok';
    this.onFinished(job.name, run.outcome);
    run.removed = progress.removed;
    run.batches = progress.batches;
    if (progress.historyRemoved !== undefined) run.history_removed = progress.historyRemoved;
    if (failure) {
      const { error } = failure;
      run.error = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
    }
    const end = { finishedAt, outcome: run.outcome, error: run.error, ...progress };
    const meta = {
      job: job.name,
      trigger: request.trigger,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    };

    if (failure) {
      // The job's own error matters more than a failure to record it (MongoDB is often the cause of both).
      await this.runs
        .finish(id, end)
        .catch((recordError: unknown) =>
          logger.error('could not record a failed job run', { job: job.name, ...errorMeta(recordError) }),
        );
      logger.error('job failed', { ...meta, removed: run.removed, ...errorMeta(failure.error) });
      throw new JobRunError(run, failure.error);
    }
    await this.runs.finish(id, end);
    logger.info('job done', { ...meta, removed: run.removed, batches: run.batches });
    return run;
  }
}
