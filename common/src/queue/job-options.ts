import type { JobsOptions } from 'bullmq';

/**
 * Set by the producer on every job: BullMQ keeps retry policy on the job itself.
 * Retries back off exponentially (1 s, 2 s, 4 s, 8 s); finished jobs are trimmed so Redis stays bounded,
 * failed ones are kept longer (bounded too) so they can be counted and inspected.
 */
export const DEFAULT_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { count: 10_000, age: 7 * 24 * 3600 },
});
