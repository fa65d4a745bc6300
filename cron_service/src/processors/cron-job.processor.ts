import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { logger, runWithContext } from '@analytics/common';
import { isCronJobName, type CronJob, type CronJobName } from '../jobs';
import type { JobRunner } from '../services/job-runner.service';

/** True when another BullMQ job of the same name is active (a previous tick still running). */
async function anotherRunActive(queue: Queue, job: Job): Promise<boolean> {
  const active = await queue.getJobs(['active']);
  return active.some((other) => other.name === job.name && other.id !== job.id);
}

export interface CronJobProcessorDeps {
  jobs: Record<CronJobName, CronJob>;
  queue: Queue;
  runner: JobRunner;
  /** Aborted on shutdown, so a long retention run stops between two batches. */
  signal: AbortSignal;
}

/**
 * Runs one scheduled tick: the job its name names, through the runner (which records it), unless it is
 * exclusive and the previous tick is still running. An unknown name can never succeed: it fails at once.
 */
export function createCronJobProcessor({ jobs, queue, runner, signal }: CronJobProcessorDeps) {
  return async (job: Job) => {
    const definition = isCronJobName(job.name) ? jobs[job.name] : undefined;
    if (!definition) throw new UnrecoverableError(`unknown job name "${job.name}"`);
    return runWithContext({ jobId: job.id }, async () => {
      if (definition.exclusive && (await anotherRunActive(queue, job))) {
        logger.info('tick skipped: the previous run is still going', { job: job.name });
        return { skipped: true };
      }
      const run = await runner.run(definition, { trigger: 'schedule', queueJobId: job.id, signal });
      return { removed: run.removed, batches: run.batches };
    });
  };
}
