import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, errorMeta, logger } from '@analytics/common';

export interface WorkerInstance {
  worker: Worker;
  redis: Redis;
}

/**
 * Replaces the BullMQ worker whenever its Redis connection comes back after losing it.
 *
 * Why: when Redis froze and was then killed, the worker kept counting as "in progress" the jobs whose
 * replies died with the connection, and its stalled-job checker never ran again, so those jobs stayed
 * active for ever and the worker crawled at the few slots left (seen with bullmq 6.7 in the fault
 * suite, case 5). A fresh worker starts clean; the jobs the old one lost are picked up by the stalled
 * checker once their locks lapse, and re-running them is safe because processing is idempotent.
 */
export class WorkerSupervisor {
  private current: WorkerInstance;
  private closed = false;

  constructor(private readonly create: () => WorkerInstance) {
    this.current = this.watch(create());
  }

  get worker(): Worker {
    return this.current.worker;
  }

  /** Lets the jobs in hand finish and takes no new ones, then closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.current.worker.close();
    await closeRedis(this.current.redis);
  }

  private watch(instance: WorkerInstance): WorkerInstance {
    let lost = false;
    instance.redis.on('close', () => {
      lost = true;
    });
    instance.redis.on('ready', () => {
      if (!lost || this.closed || instance !== this.current) return;
      this.replace();
    });
    return instance;
  }

  private replace(): void {
    const old = this.current;
    this.current = this.watch(this.create());
    logger.warn('redis connection came back: replaced the worker so no job stays lost in the old one');
    void old.worker
      .close(true)
      .catch((error: unknown) => logger.warn('closing the replaced worker failed', errorMeta(error)))
      .finally(() => void closeRedis(old.redis));
  }
}
