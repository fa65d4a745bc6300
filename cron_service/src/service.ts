import { Queue, Worker } from 'bullmq';
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
  pingMongo,
  pingRedis,
  redactUri,
  StartupError,
  waitForRedisReady,
  withTimeout,
  type HealthCheck,
  type ShutdownStep,
  counter,
  createServiceMetrics,
  METRIC_NAMES,
  type ServiceMetrics,
} from '@analytics/common';
import { cronQueueName, type CronConfig } from './config';
import { createCronJobs, JobInterruptedError, type CronJob } from './jobs';
import { createCronJobProcessor } from './processors/cron-job.processor';
import {
  REDIS_START_WAIT_MS,
  rewriteSchedulesOnReconnect,
  scheduleJobs,
} from './repositories/job-schedule.repository';
import { createJobRunRepository } from './repositories/job-run.repository';
import { createJobHealth, type JobHealth } from './services/job-health.service';
import { instanceName } from './services/instance-name.service';
import { JobRunner } from './services/job-runner.service';

export interface CronService {
  app: Express;
  metrics: ServiceMetrics;
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
  // The events queue: the user-erasure job takes a user's events out of its waiting and failed jobs.
  const eventsQueue = new Queue(config.queueName, { connection: redis, prefix: config.redis.prefix });
  eventsQueue.on('error', () => undefined);
  const jobs = createCronJobs(mongo, config, now, eventsQueue);
  const jobList = Object.values(jobs);

  const closeConnections = async (): Promise<void> => {
    await queue.close().catch(() => undefined);
    await eventsQueue.close().catch(() => undefined);
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

  const metrics = createServiceMetrics('cron_service');
  const runs = counter(metrics.registry, METRIC_NAMES.cronRuns, 'Cron job runs, by job and outcome', [
    'job',
    'outcome',
  ]);
  const runner = new JobRunner(createJobRunRepository(mongo), instanceName(), now, (job, outcome) =>
    runs.inc({ job, outcome }),
  );
  // Aborted on shutdown, so a long retention run stops between two batches.
  const stopping = new AbortController();
  const workerRedis: Redis = createRedisConnection(config.redis.url, 'worker', {
    connectionName: 'cron_service:worker',
  });
  const worker = new Worker(
    cronQueueName(config),
    createCronJobProcessor({ jobs, queue, runner, signal: stopping.signal }),
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
    metrics,
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
      { name: 'queue', close: () => Promise.all([queue.close(), eventsQueue.close()]) },
      // BullMQ leaves connections it was given open: ours to close.
      { name: 'redis', close: () => Promise.all([closeRedis(redis), closeRedis(workerRedis)]) },
      { name: 'mongodb', close: () => closeMongo(mongo) },
    ],
  };
}
