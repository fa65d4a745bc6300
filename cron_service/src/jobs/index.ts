import type mongoose from 'mongoose';
import { announceFault } from '@analytics/common';
import type { CronConfig, CronFault } from '../config';
import { JobInterruptedError, type CronJob, type CronJobName } from './cron-job';
import { createHeartbeatJob } from './heartbeat.job';
import { createRetentionJob } from './retention.job';

export * from './cron-job';

/** Every job with its schedule, built from the configuration; the scheduler, the worker and the CLI share it. */
export function createCronJobs(
  mongo: mongoose.Connection,
  config: Readonly<CronConfig>,
  now: () => Date = () => new Date(),
): Record<CronJobName, CronJob> {
  const jobs: Record<CronJobName, CronJob> = {
    retention: createRetentionJob({ mongo, config, now }),
    heartbeat: createHeartbeatJob(config.heartbeat.intervalMs),
  };
  return config.fault === undefined ? jobs : withFault(jobs, config.fault);
}

/** CRON_FAULT (tests only): every job hangs until shutdown, or fails where it would touch MongoDB. */
function withFault(jobs: Record<CronJobName, CronJob>, fault: CronFault): Record<CronJobName, CronJob> {
  announceFault('CRON_FAULT', fault);
  const broken = (job: CronJob): CronJob => ({
    ...job,
    async run({ signal }) {
      if (fault === 'fail-database') throw new Error('injected database failure (CRON_FAULT=fail-database)');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new JobInterruptedError();
    },
  });
  return { retention: broken(jobs.retention), heartbeat: broken(jobs.heartbeat) };
}
