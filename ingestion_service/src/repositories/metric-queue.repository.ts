import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  DEFAULT_JOB_OPTIONS,
  METRIC_JOB_NAME,
  metricQueueName,
  redisUnavailable,
  withTimeout,
  type IngestMetricsJob,
} from '@analytics/common';

export interface MetricQueue {
  /** Resolves once Redis has acknowledged every job (several in one MULTI: all or none); else a 503. */
  enqueue(jobs: IngestMetricsJob[]): Promise<void>;
  close(): Promise<void>;
}

export interface MetricQueueOptions {
  redis: Redis;
  /** The events queue's name; metric jobs go to `metricQueueName(queueName)`. */
  queueName: string;
  prefix: string;
  timeoutMs: number;
}

/** The producer side of the metrics queue, on the same connection as the events queue. */
export function createMetricQueue(options: MetricQueueOptions): MetricQueue {
  const queue = new Queue<IngestMetricsJob>(metricQueueName(options.queueName), {
    connection: options.redis,
    prefix: options.prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS },
  });
  queue.on('error', () => {
    // Connection errors are logged once by the connection itself; failed adds reject to the caller.
  });
  return {
    async enqueue(jobs) {
      const adding: Promise<unknown> =
        jobs.length === 1
          ? queue.add(METRIC_JOB_NAME, jobs[0]!)
          : queue.addBulk(jobs.map((data) => ({ name: METRIC_JOB_NAME, data })));
      try {
        await withTimeout(adding, options.timeoutMs, 'redis');
      } catch (error) {
        throw redisUnavailable(error);
      }
    },
    close: () => queue.close(),
  };
}
