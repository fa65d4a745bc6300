import type { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import type { CronConfig } from '../config';
import { withFault } from '../faults';
import type { CronJob, CronJobName } from './cron-job.types';
import { createHeartbeatJob } from './heartbeat.job';
import { createRetentionJob } from './retention.job';
import { createSiteDeletionJob } from './site-deletion.job';
import { createUserErasureJob } from './user-erasure.job';
import { instanceName } from '../services/instance-name.service';

export * from './cron-job.types';

/** Every job with its schedule, built from the configuration; the scheduler, the worker and the CLI share it. */
export function createCronJobs(
  mongo: mongoose.Connection,
  config: Readonly<CronConfig>,
  now: () => Date = () => new Date(),
  /** The events queue, for the user-erasure job (which fails its runs without it). */
  eventsQueue?: Queue,
): Record<CronJobName, CronJob> {
  const jobs: Record<CronJobName, CronJob> = {
    retention: createRetentionJob({ mongo, config, now }),
    heartbeat: createHeartbeatJob(config.heartbeat.intervalMs),
    'site-deletion': createSiteDeletionJob({ mongo, config, now }),
    'user-erasure': createUserErasureJob({ mongo, config, now, eventsQueue, instance: instanceName() }),
  };
  return config.fault === undefined ? jobs : withFault(jobs, config.fault);
}
