import { Queue, UnrecoverableError, Worker, type Job, type JobSchedulerTemplateOptions } from 'bullmq';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import {
  closeMongo,
  closeRedis,
  connectMongoAtStart,
  createHealthApp,
  createRedisConnection,
  errorMeta,
  logger,
  onRedisReconnect,
  pingMongo,
  pingRedis,
  redactUri,
  runWithContext,
  StartupError,
  waitForRedisReady,
  withTimeout,
  type HealthCheck,
  type ShutdownStep,
} from '@analytics/common';
import { cronQueueName, type CronConfig } from './config';
import { createCronJobs, isCronJobName, JobInterruptedError, type CronJob } from './jobs';
import { createJobRunRepository } from './repositories/job-run.repository';
import { createJobHealth, type JobHealth } from './services/job-health.service';
import { instanceName } from './services/instance-name';
import { JobRunner } from './services/job-runner.service';

/** Redis must answer within this at start: the schedules are written to it before anything runs. */
const REDIS_START_WAIT_MS = 5000;

/**
 * Every scheduled job: one attempt (a failed tick is recorded, and the next tick runs anyway), and a
 * bounded history in Redis (job_runs in MongoDB is the record that matters).
 */
const SCHEDULED_JOB_OPTIONS: JobSchedulerTemplateOptions = Object.freeze({
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 500 },
});

export interface CronService {
  app: Express;
  worker: Worker;
  queue: Queue;
  mongo: mongoose.Connection;
  jobs: Record<string, CronJob>;
  health: JobHealth;
  /** In shutdown order, after the HTTP server has stopped accepting. */
  closers: ShutdownStep[];
}

export interface CronOptions {
  /** The clock of the retention cutoff and of /health (tests move it). */
  now?: () => Date;
}

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
function rewriteSchedulesOnReconnect(redis: Redis, queue: Queue, jobs: readonly CronJob[]): void {
  onRedisReconnect(redis, () => {
    withTimeout(scheduleJobs(queue, jobs), REDIS_START_WAIT_MS, 'rewriting the schedules')
      .then(() => logger.info('cron schedules written again after Redis came back'))
      .catch((error: unknown) =>
        logger.warn('could not write the schedules again after Redis came back', errorMeta(error)),
      );
  });
}

/** True when another BullMQ job of the same name is active (a previous tick still running). */
async function anotherRunActive(queue: Queue, job: Job): Promise<boolean> {
  const active = await queue.getJobs(['active']);
  return active.some((other) => other.name === job.name && other.id !== job.id);
}

/**
 * Connects MongoDB and Redis, writes the schedules, starts the worker and builds the health app;
 * index.ts and the tests start here.
 */
export async function startCron(
  config: Readonly<CronConfig>,
  options: CronOptions = {},
): Promise<CronService> {
  const now = options.now ?? (() => new Date());
  const serviceStartedAt = now();
  const mongo = await connectMongoAtStart(config.mongodbUri, 'cron_service');

  // The queue's connection writes the schedules and serves /health; the worker's blocks waiting for jobs.
  const redis = createRedisConnection(config.redis.url, 'worker', { connectionName: 'cron_service' });
  const queue = new Queue(cronQueueName(config), { connection: redis, prefix: config.redis.prefix });
  // The connection logs each outage once (createRedisConnection); the queue would repeat it per retry.
  queue.on('error', () => undefined);
  const jobs = createCronJobs(mongo, config, now);
  const jobList = Object.values(jobs);

  const closeConnections = async (): Promise<void> => {
    await queue.close().catch(() => undefined);
    await closeRedis(redis);
    await closeMongo(mongo);
  };
  try {
    if (!(await waitForRedisReady(redis, REDIS_START_WAIT_MS))) throw new Error('no answer');
    await withTimeout(scheduleJobs(queue, jobList), REDIS_START_WAIT_MS, 'writing the schedules');
  } catch (error) {
    await closeConnections();
    throw new StartupError(
      `cannot reach Redis at ${redactUri(config.redis.url)}`,
      'Start Redis or set REDIS_URL.',
      error,
    );
  }

  rewriteSchedulesOnReconnect(redis, queue, jobList);

  const runner = new JobRunner(createJobRunRepository(mongo), instanceName(), now);
  // Aborted on shutdown, so a long retention run stops between two batches.
  const stopping = new AbortController();
  const workerRedis: Redis = createRedisConnection(config.redis.url, 'worker', {
    connectionName: 'cron_service:worker',
  });
  const worker = new Worker(
    cronQueueName(config),
    async (job: Job) => {
      const definition = isCronJobName(job.name) ? jobs[job.name] : undefined;
      if (!definition) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      return runWithContext({ jobId: job.id }, async () => {
        if (definition.exclusive && (await anotherRunActive(queue, job))) {
          logger.info('tick skipped: the previous run is still going', { job: job.name });
          return { skipped: true };
        }
        const run = await runner.run(definition, {
          trigger: 'schedule',
          queueJobId: job.id,
          signal: stopping.signal,
        });
        return { removed: run.removed, batches: run.batches };
      });
    },
    {
      connection: workerRedis,
      prefix: config.redis.prefix,
      // One slot per job, so a long retention run never delays a heartbeat.
      concurrency: jobList.length,
    },
  );
  worker.on('error', (error) => logger.error('cron worker error', errorMeta(error)));

  const health = createJobHealth({
    jobs: jobList,
    runs: createJobRunRepository(mongo),
    serviceStartedAt,
    now,
  });
  const checks: Record<string, HealthCheck> = {
    redis: () => pingRedis(redis),
    mongodb: () => pingMongo(mongo),
  };
  for (const job of jobList) checks[`job:${job.name}`] = () => health.check(job.name);
  const app = createHealthApp(checks, async () => ({ jobs: await health.statuses() }));

  logger.info('cron schedules written', {
    queue: cronQueueName(config),
    jobs: Object.fromEntries(jobList.map((job) => [job.name, job.intervalMs])),
  });
  return {
    app,
    worker,
    queue,
    mongo,
    jobs,
    health,
    closers: [
      {
        name: 'worker',
        // Stop taking jobs, and tell a running one to stop between two batches; then wait for it.
        close: async () => {
          const closing = worker.close();
          stopping.abort(new JobInterruptedError());
          await closing;
        },
      },
      { name: 'queue', close: () => queue.close() },
      // BullMQ leaves connections it was given open: ours to close.
      { name: 'redis', close: () => Promise.all([closeRedis(redis), closeRedis(workerRedis)]) },
      { name: 'mongodb', close: () => closeMongo(mongo) },
    ],
  };
}
