import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  DEFAULT_JOB_OPTIONS,
  JOBS,
  pingRedis,
  redisUnavailable,
  withTimeout,
  type IngestEventsJob,
} from '@analytics/common';

export interface EventQueue {
  /**
   * Resolves once Redis has acknowledged every job; throws a 503 AppError otherwise, within the timeout.
   * Several jobs go in one MULTI transaction: all are stored or none.
   */
  enqueue(jobs: IngestEventsJob[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface EventQueueOptions {
  redis: Redis;
  queueName: string;
  prefix: string;
  /** Upper bound on one enqueue, whatever state the connection is in (for example never connected yet). */
  timeoutMs: number;
}

/**
 * The producer side of the events queue. A request's events are always in one job, so `/events` is all
 * or none by construction: a single Redis script call either stores the job or does not.
 */
export function createEventQueue(options: EventQueueOptions): EventQueue {
  const queue = new Queue<IngestEventsJob>(options.queueName, {
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
          ? queue.add(JOBS.ingestEvents, jobs[0]!)
          : queue.addBulk(jobs.map((data) => ({ name: JOBS.ingestEvents, data })));
      try {
        await withTimeout(adding, options.timeoutMs, 'redis');
      } catch (error) {
        throw redisUnavailable(error);
      }
    },
    ping: () => pingRedis(options.redis),
    close: () => queue.close(),
  };
}
