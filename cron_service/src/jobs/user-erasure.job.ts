import type { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import { logger, type IngestEventsJob } from '@analytics/common';
import type { CronConfig } from '../config';
import { purgeUserJobs } from '../repositories/event-queue.repository';
import { createUserDataRepository } from '../repositories/user-data.repository';
import { addErasureCounts, isErasureSettled, runErasurePass } from '../services/user-erasure.service';
import type { CronJob } from './cron-job.types';

export interface UserErasureJobDeps {
  mongo: mongoose.Connection;
  config: Pick<CronConfig, 'siteDeletion' | 'retention'>;
  now: () => Date;
  /** The events queue (its waiting and failed jobs lose the user's events); required to run. */
  eventsQueue: Queue | undefined;
  instance: string;
}

/** Requests handled per run; more wait for the next run, the oldest first. */
const REQUESTS_PER_RUN = 20;

/**
 * Carries out `DELETE /users/:user_id` requests (collection user_erasures): removes the user's raw events
 * and queued events, and moves every stored set to the request's pseudonym, so aggregates stay exact. It
 * runs on the site-deletion schedule and repeats each request's pass on every run until the request is
 * SITE_DELETION_SETTLE_MS old (what was in flight when it was made is stored by then); the last pass
 * writes the audit record, marks the request done and drops the user id and pseudonym from it. With the
 * defaults (10 s, 30 s) a request is done within 40 s.
 */
export function createUserErasureJob({
  mongo,
  config,
  now,
  eventsQueue,
  instance,
}: UserErasureJobDeps): CronJob {
  const repository = createUserDataRepository(mongo);
  const { intervalMs, settleMs } = config.siteDeletion;
  return {
    name: 'user-erasure',
    intervalMs,
    exclusive: true,
    async run({ signal, progress }) {
      if (eventsQueue === undefined) throw new Error('the user-erasure job needs the events queue (Redis)');
      const queue = eventsQueue as Queue<IngestEventsJob>;
      const requests = await repository.findPendingErasures(REQUESTS_PER_RUN);
      for (const request of requests) {
        const passStartedAt = now();
        const counts = await runErasurePass(repository, request, {
          batchSize: config.retention.batchSize,
          signal,
          purgeJobs: (siteId, userId) => purgeUserJobs(queue, siteId, userId, signal),
          onBatch: (count) => {
            progress.removed += count;
            progress.batches += 1;
          },
        });
        progress.removed += counts.jobs_removed + counts.jobs_rewritten + counts.visit_parts;
        if (isErasureSettled(request, passStartedAt, settleMs)) {
          await repository.finish(request, addErasureCounts(request.counts, counts), now(), instance);
          logger.info('user erasure done', {
            siteId: request.site_id,
            erasureId: request._id,
            passes: request.passes + 1,
          });
        } else {
          await repository.recordPass(request._id, counts, now());
        }
      }
    },
  };
}
