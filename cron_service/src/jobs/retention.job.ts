import type mongoose from 'mongoose';
import { DAY_MS, logger, startOfHour } from '@analytics/common';
import type { CronConfig } from '../config';
import { jobRunsByAge, rawEventsByAge } from '../repositories/aged-documents.repository';
import { deleteOlderThan } from '../services/batched-delete.service';
import type { CronJob } from './cron-job';

export interface RetentionJobDeps {
  mongo: mongoose.Connection;
  config: Pick<CronConfig, 'retention' | 'jobHistoryDays'>;
  now: () => Date;
}

/**
 * Removes raw events older than RETENTION_DAYS, then job runs older than JOB_HISTORY_DAYS. Rollups are
 * never touched, so /stats answers the same for a day whose raw events are gone.
 */
export function createRetentionJob({ mongo, config, now }: RetentionJobDeps): CronJob {
  const { days, intervalMs, batchSize, batchPauseMs } = config.retention;
  return {
    name: 'retention',
    intervalMs,
    exclusive: true,
    async run({ signal, progress }) {
      const startedMs = now().getTime();
      // Whole hours only: an hour's raw events go in one run, never half of them, which keeps the
      // boundary easy to reason about (the processor recounts rollups hour by hour).
      const cutoff = startOfHour(new Date(startedMs - days * DAY_MS));
      await deleteOlderThan(rawEventsByAge(mongo), cutoff, {
        batchSize,
        pauseMs: batchPauseMs,
        signal,
        onBatch: (deleted) => {
          progress.removed += deleted;
          progress.batches += 1;
        },
      });
      progress.historyRemoved = 0;
      await deleteOlderThan(jobRunsByAge(mongo), new Date(startedMs - config.jobHistoryDays * DAY_MS), {
        batchSize,
        pauseMs: batchPauseMs,
        signal,
        onBatch: (deleted) => {
          progress.historyRemoved = (progress.historyRemoved ?? 0) + deleted;
        },
      });
      logger.info('retention done', { cutoff: cutoff.toISOString(), ...progress });
    },
  };
}
