import { announceFault } from '@analytics/common';
import type { CronFault } from './config';
import { JobInterruptedError, type CronJob, type CronJobName } from './jobs/cron-job.types';

/** CRON_FAULT (tests only): every job hangs until shutdown, or fails where it would touch MongoDB. */
export function withFault(
  jobs: Record<CronJobName, CronJob>,
  fault: CronFault,
): Record<CronJobName, CronJob> {
  announceFault('CRON_FAULT', fault);
  const broken = (job: CronJob): CronJob => ({
    ...job,
    async run({ signal }) {
      if (fault === 'fail-database') throw new Error('injected database failure (CRON_FAULT=fail-database)');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      throw new JobInterruptedError();
    },
  });
  return {
    retention: broken(jobs.retention),
    heartbeat: broken(jobs.heartbeat),
    'site-deletion': broken(jobs['site-deletion']),
    'user-erasure': broken(jobs['user-erasure']),
  };
}
