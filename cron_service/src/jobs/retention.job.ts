import type mongoose from 'mongoose';
import { DAY_MS, logger, startOfHour } from '@analytics/common';
import type { CronConfig } from '../config';
import {
  jobRunsByAge,
  metricPointsByAge,
  metricWritesByAge,
  rawEventsByAge,
  writeManifestsByAge,
} from '../repositories/aged-documents.repository';
import { deleteOlderThan } from '../services/batched-delete.service';
import type { CronJob } from './cron-job.types';

export interface RetentionJobDeps {
  mongo: mongoose.Connection;
  config: Pick<CronConfig, 'retention' | 'jobHistoryDays'>;
  now: () => Date;
}

/**
 * Removes raw events older than RETENTION_DAYS, then the processor's write manifests written before the
 * same cutoff, then the raw custom-metric points and their write manifests by the same rule, then job runs
 * older than JOB_HISTORY_DAYS. Rollups are never touched, so /stats answers the same for a day whose raw
 * events are gone (and /metrics/query the same counts and sums; its percentiles turn approximate).
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
      // boundary easy to reason about.
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
      // A manifest is written after its events arrived, and an event's timestamp is at most 5 minutes
      // past its arrival, so a manifest a day older than the cutoff describes only removed events.
      await deleteOlderThan(writeManifestsByAge(mongo), new Date(cutoff.getTime() - DAY_MS), {
        batchSize,
        pauseMs: batchPauseMs,
        signal,
        onBatch: () => undefined,
      });
      // Custom-metric points follow the same rule and the same cutoff (their age limit is the events').
      progress.metricPointsRemoved = 0;
      await deleteOlderThan(metricPointsByAge(mongo), cutoff, {
        batchSize,
        pauseMs: batchPauseMs,
        signal,
        onBatch: (deleted) => {
          progress.metricPointsRemoved = (progress.metricPointsRemoved ?? 0) + deleted;
        },
      });
      await deleteOlderThan(metricWritesByAge(mongo), new Date(cutoff.getTime() - DAY_MS), {
        batchSize,
        pauseMs: batchPauseMs,
        signal,
        onBatch: () => undefined,
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
