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
  const queue = createProducerQueue<IngestEventsJob>(options.queueName, options);
  return {
    enqueue: jobEnqueuer(queue, JOBS.ingestEvents, options.timeoutMs),
    ping: () => pingRedis(options.redis),
    close: () => queue.close(),
  };
}

/** A producer's queue on the given connection, with the project's job options. */
export function createProducerQueue<T>(name: string, options: { redis: Redis; prefix: string }): Queue<T> {
  const queue = new Queue<T>(name, {
    connection: options.redis,
    prefix: options.prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS },
  });
  queue.on('error', () => {
    // Connection errors are logged once by the connection itself; failed adds reject to the caller.
  });
  return queue;
}

/**
 * Adds jobs named `name`: one `add`, or several in one `addBulk` (one MULTI: all or none). Resolves once
 * Redis has acknowledged them; a 503 AppError otherwise, within `timeoutMs`.
 */
export function jobEnqueuer<T>(
  queue: Queue<T>,
  name: string,
  timeoutMs: number,
): (jobs: T[]) => Promise<void> {
  // BullMQ narrows job names by the queue's data type; these queues take plain names.
  const producer = queue as Queue;
  return async (jobs) => {
    const adding: Promise<unknown> =
      jobs.length === 1
        ? producer.add(name, jobs[0]!)
        : producer.addBulk(jobs.map((data) => ({ name, data })));
    try {
      await withTimeout(adding, timeoutMs, 'redis');
    } catch (error) {
      throw redisUnavailable(error);
    }
  };
}
