import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  ingestMetricsJobSchema,
  isMetricJobTooNew,
  logger,
  METRIC_JOB_NAME,
  METRIC_PAYLOAD_VERSION_READ,
  runWithContext,
  type IngestMetricsJob,
} from '@analytics/common';
import type { GroupCommit } from '../services/group-commit.service';
import { DatabaseBackoff } from '../services/database-backoff.service';
import { toMetricPointDocument } from '../services/metric-point-document.service';
import type { NewMetricPoint } from '../repositories/metric-point.repository';
import { TOO_NEW_RETRY_MS } from './event.processor';

/**
 * One job of the metrics queue: checks its payload and hands its points to the metric group commit;
 * resolves when they are stored and their rollups applied. Same failure rules as the event processor: a
 * malformed payload fails at once, an unavailable database puts the job back without spending an
 * attempt, a job of a later release is kept delayed for a processor that reads it.
 */
export function createMetricProcessor(writer: GroupCommit<NewMetricPoint>) {
  return async (job: Job<unknown>, token?: string): Promise<{ points: number }> =>
    runWithContext({ requestId: undefined, jobId: job.id }, async () => {
      if (job.name !== METRIC_JOB_NAME) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      if (isMetricJobTooNew(job.data) && token !== undefined) {
        logger.warn('metric job written by a later release: kept for a processor that reads it', {
          version: (job.data as { v: number }).v,
          reads: METRIC_PAYLOAD_VERSION_READ,
        });
        await job.moveToDelayed(Date.now() + TOO_NEW_RETRY_MS, token);
        throw new DelayedError();
      }
      const { value, error } = ingestMetricsJobSchema.validate(job.data);
      if (error) throw new UnrecoverableError(`malformed payload: ${error.message}`);
      const documents = (value as IngestMetricsJob).requests.flatMap((request) => {
        const receivedAt = new Date(request.received_at);
        return request.points.map((point) =>
          toMetricPointDocument({ point, requestId: request.request_id, receivedAt }),
        );
      });
      try {
        await writer.add(documents);
      } catch (writeError) {
        if (!DatabaseBackoff.isUnavailable(writeError)) throw writeError;
        throw Worker.RateLimitError();
      }
      return { points: documents.length };
    });
}
