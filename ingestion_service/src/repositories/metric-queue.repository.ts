import type { Redis } from 'ioredis';
import { METRIC_JOB_NAME, metricQueueName, type IngestMetricsJob } from '@analytics/common';
import { createProducerQueue, jobEnqueuer } from './event-queue.repository';

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
  const queue = createProducerQueue<IngestMetricsJob>(metricQueueName(options.queueName), options);
  return {
    enqueue: jobEnqueuer(queue, METRIC_JOB_NAME, options.timeoutMs),
    close: () => queue.close(),
  };
}
