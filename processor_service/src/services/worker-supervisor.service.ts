import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeRedis, errorMeta, logger, onRedisReconnect } from '@analytics/common';

export interface WorkerInstance {
  worker: Worker;
  redis: Redis;
}

export interface SupervisorOptions {
  /** Replace a worker that has finished no job for this long while jobs are waiting. */
  stuckAfterMs: number;
  /** Whether jobs are waiting (bounded by the caller; a failure counts as "unknown", not "yes"). */
  hasWaitingJobs: () => Promise<boolean>;
}

/**
 * Replaces the BullMQ worker whenever its Redis connection comes back after losing it, and whenever it has
 * finished nothing for `stuckAfterMs` while jobs wait.
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
  private lastProgress = Date.now();
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly create: () => WorkerInstance,
    private readonly options: SupervisorOptions,
  ) {
    this.current = this.watch(create());
    this.watchdog = setInterval(() => void this.checkProgress(), Math.max(1000, options.stuckAfterMs / 4));
    this.watchdog.unref();
  }

  get worker(): Worker {
    return this.current.worker;
  }

  /** Lets the jobs in hand finish and takes no new ones, then closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    await this.current.worker.close();
    await closeRedis(this.current.redis);
  }

  private watch(instance: WorkerInstance): WorkerInstance {
    onRedisReconnect(instance.redis, () => {
      if (this.closed || instance !== this.current) return;
      this.replace('redis connection came back');
    });
    const progressed = () => {
      if (instance === this.current) this.lastProgress = Date.now();
    };
    instance.worker.on('completed', progressed);
    instance.worker.on('failed', progressed);
    return instance;
  }

  private async checkProgress(): Promise<void> {
    if (this.closed || Date.now() - this.lastProgress < this.options.stuckAfterMs) return;
    const waiting = await this.options.hasWaitingJobs().catch(() => false);
    if (waiting && !this.closed && Date.now() - this.lastProgress >= this.options.stuckAfterMs) {
      this.replace('no job finished while jobs are waiting');
    }
  }

  private replace(reason: string): void {
    const old = this.current;
    this.lastProgress = Date.now();
    this.current = this.watch(this.create());
    logger.warn('replaced the worker so no job stays lost in the old one', { reason });
    void old.worker
      .close(true)
      .catch((error: unknown) => logger.warn('closing the replaced worker failed', errorMeta(error)))
      .finally(() => void closeRedis(old.redis));
  }
}
