import { Queue, Worker } from 'bullmq';
import type { Express } from 'express';
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
  withTimeout,
  metricQueueName,
  type RawEventDocument,
  type ShutdownStep,
  counter,
  createServiceMetrics,
  gauge,
  histogram,
  METRIC_NAMES,
  type ServiceMetrics,
} from '@analytics/common';
import type { ProcessorConfig } from './config';
import { createEventProcessor } from './processors/event.processor';
import { AdaptiveBatchLimit } from './services/adaptive-batch-limit.service';
import { BacklogWatch } from './services/backlog-watch.service';
import { GroupCommit } from './services/group-commit.service';
import { createEventStore } from './services/event-store.service';
import { DatabaseBackoff } from './services/database-backoff.service';
import { createProcessorFaults } from './faults';
import { WorkerSupervisor } from './services/worker-supervisor.service';
import { createMetricProcessor } from './processors/metric.processor';
import { createMetricStore } from './services/metric-store.service';
import type { NewMetricPoint } from './repositories/metric-point.repository';

export interface ProcessorService {
  app: Express;
  metrics: ServiceMetrics;
  worker: Worker;
  queue: Queue;
  /** The custom-metrics queue and its worker (metric-payloads.ts). */
  metricWorker: Worker;
  metricQueue: Queue;
  mongo: mongoose.Connection;
  /** In shutdown order, after the HTTP server has stopped accepting. */
  closers: ShutdownStep[];
}

export interface QueueFigures {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  oldest_waiting_age_ms: number | null;
}

/** Depth of the queue and age of its oldest waiting job, for /health. */
export async function queueFigures(queue: Queue): Promise<QueueFigures> {
  const [counts, oldest] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
    queue.getJobs(['waiting'], 0, 0, true),
  ]);
  const first = oldest[0];
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    oldest_waiting_age_ms: first ? Math.max(0, Date.now() - first.timestamp) : null,
  };
}

/** The processor's series (contract Part 2, "Operations"); the queue gauges are read when scraped. */
function processorMetrics(queue: Queue) {
  const service = createServiceMetrics('processor_service');
  const { registry } = service;
  // Both queue gauges are read in one scrape: one set of Redis calls serves them (kept for a second).
  let figures: { at: number; read: Promise<QueueFigures> } | undefined;
  const currentFigures = (): Promise<QueueFigures> => {
    if (!figures || Date.now() - figures.at > 1000) figures = { at: Date.now(), read: queueFigures(queue) };
    return figures.read;
  };
  gauge(registry, METRIC_NAMES.queueWaiting, 'Jobs waiting in the events queue', async () => {
    return (await currentFigures()).waiting;
  });
  gauge(registry, METRIC_NAMES.queueOldestWaiting, 'Age of the oldest waiting job', async () => {
    return ((await currentFigures()).oldest_waiting_age_ms ?? 0) / 1000;
  });
  return {
    service,
    duplicates: counter(registry, METRIC_NAMES.eventsDuplicate, 'Deliveries of events already stored'),
    writeTimeouts: counter(
      registry,
      METRIC_NAMES.writeTimeouts,
      'Writes that failed because MongoDB was unavailable or too slow',
    ),
    batchEvents: histogram(
      registry,
      METRIC_NAMES.batchEvents,
      'Events per write',
      [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    ),
    writeSeconds: histogram(
      registry,
      METRIC_NAMES.writeSeconds,
      'Duration of a write',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  };
}

/** Connects MongoDB and Redis, starts the worker and builds the health app; index.ts and tests start here. */
export async function startProcessor(config: Readonly<ProcessorConfig>): Promise<ProcessorService> {
  const faults = createProcessorFaults(config);
  faults?.atStart();
  const mongo = await connectMongoAtStart(config.mongodbUri, 'processor_service');
  const store = createEventStore(mongo, {
    adoptAfterMs: config.worker.adoptAfterMs,
    afterRawWrite: faults?.afterRawWrite,
  });

  // The worker's blocking connection waits through reconnects; the queue's one serves /health.
  const redis = createRedisConnection(config.redis.url, 'worker', { connectionName: 'processor_service' });
  const queue = new Queue(config.queueName, { connection: redis, prefix: config.redis.prefix });
  queue.on('error', () => undefined);
  const backoff = new DatabaseBackoff((ms) => queue.rateLimit(ms));
  const limit = new AdaptiveBatchLimit({
    initial: config.worker.initialBatchEvents,
    max: config.worker.maxBatchEvents,
    targetMs: config.worker.writeTargetMs,
  });
  const metrics = processorMetrics(queue);
  const writer = new GroupCommit<RawEventDocument>(
    async (docs) => {
      if (faults) await faults.beforeBatch();
      const result = await store.store(docs);
      metrics.duplicates.inc(result.received - result.inserted);
      backoff.succeeded();
      return result;
    },
    limit,
    {
      afterFailure: (outcome) => {
        if (DatabaseBackoff.isUnavailable(outcome.error)) metrics.writeTimeouts.inc();
        return backoff.afterFailedWrite(outcome, limit.current);
      },
      afterSlowWrite: (outcome) => backoff.slowWrite(outcome, limit.current),
      afterWrite: (outcome) => {
        metrics.batchEvents.observe(outcome.items);
        metrics.writeSeconds.observe(outcome.durationMs / 1000);
      },
    },
  );
  const backlog = new BacklogWatch(
    () => withTimeout(queue.getWaitingCount(), 1000, 'waiting count'),
    () => writer.status(),
  );
  // The metric path compiles its models too: every index build is then awaited before events are taken.
  const metricPath = startMetricWorker(config, mongo);
  await indexesBuilt(mongo);
  const supervisor = new WorkerSupervisor(
    () => {
      const workerRedis = createRedisConnection(config.redis.url, 'worker', {
        connectionName: 'processor_service:worker',
      });
      const worker = new Worker(config.queueName, createEventProcessor(writer, faults), {
        connection: workerRedis,
        prefix: config.redis.prefix,
        concurrency: config.worker.concurrency,
        lockDuration: config.worker.lockDurationMs,
        stalledInterval: config.worker.stalledIntervalMs,
        maxStalledCount: config.worker.maxStalledCount,
      });
      worker.on('error', (error) => logger.error('worker error', errorMeta(error)));
      worker.on('failed', (job, error) => {
        const final =
          !job || job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === 'UnrecoverableError';
        logger.log(final ? 'error' : 'warn', final ? 'job failed for good' : 'job failed; will retry', {
          job_id: job?.id,
          attempts: job?.attemptsMade,
          ...errorMeta(error),
        });
      });
      return { worker, redis: workerRedis };
    },
    {
      // Long enough for any healthy batch; a stuck worker is replaced well before its jobs would be missed.
      stuckAfterMs: Math.max(30_000, 4 * config.worker.lockDurationMs),
      hasWaitingJobs: async () => (await withTimeout(queue.getWaitingCount(), 1000, 'waiting count')) > 0,
    },
  );

  const app = createHealthApp(
    { redis: () => pingRedis(redis), mongodb: () => pingMongo(mongo) },
    async () => ({
      queue: await queueFigures(queue),
      writer: writer.status(),
      backlog: backlog.status(),
    }),
  );

  return {
    app,
    metrics: metrics.service,
    get worker() {
      return supervisor.worker;
    },
    queue,
    metricWorker: metricPath.worker,
    metricQueue: metricPath.queue,
    mongo,
    closers: [
      // Lets the jobs in hand finish (their batch write included) and takes no new ones.
      { name: 'worker', close: () => supervisor.close() },
      { name: 'metric worker', close: () => metricPath.worker.close() },
      { name: 'metric group commit', close: () => metricPath.writer.whenIdle() },
      { name: 'metric queue', close: () => metricPath.queue.close() },
      { name: 'metric redis', close: () => closeRedis(metricPath.redis) },
      { name: 'metric worker redis', close: () => closeRedis(metricPath.workerRedis) },
      { name: 'backlog watch', close: async () => backlog.stop() },
      { name: 'event store', close: async () => store.close() },
      { name: 'group commit', close: () => writer.whenIdle() },
      { name: 'queue', close: () => queue.close() },
      { name: 'redis', close: () => closeRedis(redis) },
      { name: 'mongodb', close: () => closeMongo(mongo) },
    ],
  };
}

/** How long the start waits for the models' indexes before it takes jobs anyway (as before this wait). */
const INDEX_WAIT_MS = 10_000;

/**
 * Waits (bounded) for Mongoose's index builds of the models compiled so far, so the first writes do not
 * share the database with them: on a fresh database they were 15-16 `createIndexes` inside the first
 * write's window, and the unique `(site_id, event_id)` index is in place before the first insert. A
 * failure or a timeout is logged and the processor starts anyway, as it did before it waited.
 */
async function indexesBuilt(mongo: mongoose.Connection): Promise<void> {
  try {
    await withTimeout(
      Promise.all(Object.values(mongo.models).map((model) => model.init())),
      INDEX_WAIT_MS,
      'index builds',
    );
  } catch (error) {
    logger.warn('indexes not confirmed at start; taking jobs anyway', errorMeta(error));
  }
}

/** Most points one metric write takes: bounds a manifest (four rollups per point) well below 16 MB. */
const MAX_METRIC_BATCH_POINTS = 1000;

/**
 * The custom-metrics worker: its own queue, store (metric_points, metric_writes, metric_rollups), group
 * commit and database back-off, so the event path is untouched by it.
 */
function startMetricWorker(config: Readonly<ProcessorConfig>, mongo: mongoose.Connection) {
  const store = createMetricStore(mongo, { adoptAfterMs: config.worker.adoptAfterMs });
  const redis = createRedisConnection(config.redis.url, 'worker', {
    connectionName: 'processor_service:metrics',
  });
  const queue = new Queue(metricQueueName(config.queueName), {
    connection: redis,
    prefix: config.redis.prefix,
  });
  queue.on('error', () => undefined);
  const backoff = new DatabaseBackoff((ms) => queue.rateLimit(ms));
  const limit = new AdaptiveBatchLimit({
    initial: Math.min(config.worker.initialBatchEvents, MAX_METRIC_BATCH_POINTS),
    max: MAX_METRIC_BATCH_POINTS,
    targetMs: config.worker.writeTargetMs,
  });
  const writer = new GroupCommit<NewMetricPoint>(
    async (points) => {
      const result = await store.store(points);
      backoff.succeeded();
      return result;
    },
    limit,
    {
      afterFailure: (outcome) => backoff.afterFailedWrite(outcome, limit.current),
      afterSlowWrite: (outcome) => backoff.slowWrite(outcome, limit.current),
    },
  );
  const workerRedis = createRedisConnection(config.redis.url, 'worker', {
    connectionName: 'processor_service:metrics-worker',
  });
  const worker = new Worker(metricQueueName(config.queueName), createMetricProcessor(writer), {
    connection: workerRedis,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
  });
  worker.on('error', (error) => logger.error('metric worker error', errorMeta(error)));
  worker.on('failed', (job, error) => {
    logger.warn('metric job failed', { job_id: job?.id, attempts: job?.attemptsMade, ...errorMeta(error) });
  });
  return { worker, queue, writer, redis, workerRedis };
}
