import type { JobSchedulerTemplateOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMeta, logger, onRedisReconnect, withTimeout } from '@analytics/common';
import type { CronJob } from '../jobs';

/** Redis must answer within this at start: the schedules are written to it before anything runs. */
export const REDIS_START_WAIT_MS = 5000;

/**
 * Every scheduled job: one attempt (a failed tick is recorded, and the next tick runs anyway), and a
 * bounded history in Redis (job_runs in MongoDB is the record that matters).
 */
const SCHEDULED_JOB_OPTIONS: JobSchedulerTemplateOptions = Object.freeze({
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 500 },
});

/**
 * Writes (or updates) one BullMQ job scheduler per job, keyed by the job's name. The schedules live in
 * Redis: a restart keeps their slots, and every cron instance upserting the same ids shares them, so each
 * tick is one BullMQ job, which one worker takes. Schedulers of jobs that no longer exist are removed.
 */
export async function scheduleJobs(queue: Queue, jobs: readonly CronJob[]): Promise<void> {
  for (const job of jobs) {
    await queue.upsertJobScheduler(
      job.name,
      { every: job.intervalMs },
      { name: job.name, data: {}, opts: SCHEDULED_JOB_OPTIONS },
    );
  }
  const known = new Set<string>(jobs.map((job) => job.name));
  for (const scheduler of await queue.getJobSchedulers()) {
    if (!known.has(scheduler.key)) {
      await queue.removeJobScheduler(scheduler.key);
      logger.warn('removed the schedule of an unknown job', { scheduler: scheduler.key });
    }
  }
}

/**
 * A Redis that comes back without its data (no AOF, a flushed or a replaced server) has lost the
 * schedules, and no job would run again until cron restarts. So they are written again whenever the
 * connection comes back; an upsert keeps an existing schedule's slot, so nothing runs early.
 */
export function rewriteSchedulesOnReconnect(redis: Redis, queue: Queue, jobs: readonly CronJob[]): void {
  onRedisReconnect(redis, () => {
    withTimeout(scheduleJobs(queue, jobs), REDIS_START_WAIT_MS, 'rewriting the schedules')
      .then(() => logger.info('cron schedules written again after Redis came back'))
      .catch((error: unknown) =>
        logger.warn('could not write the schedules again after Redis came back', errorMeta(error)),
      );
  });
}
