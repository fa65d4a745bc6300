import type { CronJob } from '../jobs/cron-job.types';
import type { JobRunDocument } from '../models/job-run.model';
import type { JobRunRepository } from '../repositories/job-run.repository';

/** A job is overdue once this many intervals pass without a successful run. */
export const OVERDUE_AFTER_INTERVALS = 2;

export interface OverdueInput {
  intervalMs: number;
  lastSuccessAt: Date | undefined;
  serviceStartedAt: Date;
  now: Date;
}

/**
 * Overdue: no successful run within two intervals. Not during the first interval after the service
 * started: after a stop, the last success is old until the schedule's next tick, which comes within one
 * interval (the schedule lives in Redis and keeps its slots across restarts).
 */
export function isOverdue({ intervalMs, lastSuccessAt, serviceStartedAt, now }: OverdueInput): boolean {
  if (now.getTime() - serviceStartedAt.getTime() <= intervalMs) return false;
  if (!lastSuccessAt) return true;
  return now.getTime() - lastSuccessAt.getTime() > OVERDUE_AFTER_INTERVALS * intervalMs;
}

export interface JobStatus {
  interval_ms: number;
  overdue: boolean;
  last_success_at: string | null;
  last_run: {
    trigger: string;
    started_at: string;
    finished_at: string | null;
    outcome: string | null;
    removed: number;
    error?: string;
  } | null;
}

export interface JobHealth {
  /** A health check: rejects when the job is overdue (or its runs cannot be read). */
  check(job: string): Promise<void>;
  /** Every job's status, for the body of /health. */
  statuses(): Promise<Record<string, JobStatus>>;
}

function describeRun(run: JobRunDocument | undefined): JobStatus['last_run'] {
  if (!run) return null;
  const described: NonNullable<JobStatus['last_run']> = {
    trigger: run.trigger,
    started_at: run.started_at.toISOString(),
    finished_at: run.finished_at?.toISOString() ?? null,
    outcome: run.outcome ?? null,
    removed: run.removed,
  };
  if (run.error !== undefined) described.error = run.error;
  return described;
}

export function createJobHealth(options: {
  jobs: readonly CronJob[];
  runs: JobRunRepository;
  serviceStartedAt: Date;
  now?: () => Date;
}): JobHealth {
  const now = options.now ?? (() => new Date());

  async function load(): Promise<Record<string, JobStatus>> {
    const at = now();
    const entries = await Promise.all(
      options.jobs.map(async (job): Promise<[string, JobStatus]> => {
        const { lastRun, lastSuccess } = await options.runs.lastRuns(job.name);
        const lastSuccessAt = lastSuccess?.finished_at;
        return [
          job.name,
          {
            interval_ms: job.intervalMs,
            overdue: isOverdue({
              intervalMs: job.intervalMs,
              lastSuccessAt,
              serviceStartedAt: options.serviceStartedAt,
              now: at,
            }),
            last_success_at: lastSuccessAt?.toISOString() ?? null,
            last_run: describeRun(lastRun),
          },
        ];
      }),
    );
    return Object.fromEntries(entries);
  }

  // One /health request asks for every job's check and for the details at once: they share one read.
  let inFlight: Promise<Record<string, JobStatus>> | undefined;
  function statuses(): Promise<Record<string, JobStatus>> {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    statuses,
    async check(job) {
      const status = (await statuses())[job];
      if (!status) throw new Error(`unknown job ${job}`);
      if (status.overdue) throw new Error(`job ${job} is overdue`);
    },
  };
}
