import type { CronJob } from './cron-job.types';

/**
 * Does nothing but get recorded: a fresh heartbeat run in job_runs proves that the schedule fires, a
 * worker takes its jobs and MongoDB takes writes. /health turns a missing one into an error.
 */
export function createHeartbeatJob(intervalMs: number): CronJob {
  return {
    name: 'heartbeat',
    intervalMs,
    exclusive: false,
    run: () => Promise.resolve(),
  };
}
