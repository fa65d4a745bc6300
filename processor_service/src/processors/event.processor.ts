import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  isTooNewForThisRelease,
  JOBS,
  logger,
  PAYLOAD_VERSION_READ,
  requestsOf,
  runWithContext,
  validateIngestEventsJob,
  type IngestEventsJob,
} from '@analytics/common';
import { toRawEventDocument } from '../services/raw-event-document.service';
import type { RawEventDocument } from '@analytics/common';
import type { GroupCommit } from '../services/group-commit.service';
import { DatabaseBackoff } from '../services/database-backoff.service';
import type { ProcessorFaults } from '../faults';

/**
 * Checks a job's payload and hands its events to the group commit; resolves when they are stored.
 * A payload that does not match the contract can never succeed: it fails at once, without retries.
 * When MongoDB is unavailable the job goes back to waiting without spending an attempt: the writer has
 * paused the queue once for the whole failed write (DatabaseBackoff).
 * A job written by a later release that this one cannot read (after a rollback) is not malformed: it is
 * put back as delayed, every TOO_NEW_RETRY_MS, until a processor of that release takes it.
 */
export const TOO_NEW_RETRY_MS = 60_000;

export function createEventProcessor(
  writer: GroupCommit<RawEventDocument>,
  faults?: Pick<ProcessorFaults, 'rejectsPayload'>,
) {
  return async (job: Job<unknown>, token?: string): Promise<{ events: number }> => {
    const data = job.data as { request_id?: unknown } | undefined;
    return runWithContext(
      // A v1 job is one request: its id joins the log lines; a v2 job holds several.
      { requestId: typeof data?.request_id === 'string' ? data.request_id : undefined, jobId: job.id },
      async () => {
        if (job.name !== JOBS.ingestEvents) throw new UnrecoverableError(`unknown job name "${job.name}"`);
        if (isTooNewForThisRelease(job.data) && token !== undefined) {
          logger.warn('job written by a later release: kept for a processor that reads it', {
            version: (job.data as { v: number }).v,
            reads: PAYLOAD_VERSION_READ,
          });
          await job.moveToDelayed(Date.now() + TOO_NEW_RETRY_MS, token);
          throw new DelayedError();
        }
        const { value, error } = validateIngestEventsJob(job.data);
        if (error) throw new UnrecoverableError(`malformed payload: ${error.message}`);
        if (faults?.rejectsPayload())
          throw new UnrecoverableError('malformed payload (injected by PROCESSOR_FAULT)');
        const documents = requestsOf(value as IngestEventsJob).flatMap((request) => {
          const receivedAt = new Date(request.received_at);
          return request.events.map((event) =>
            toRawEventDocument({ event, requestId: request.request_id, receivedAt }),
          );
        });
        try {
          await writer.add(documents);
        } catch (writeError) {
          if (!DatabaseBackoff.isUnavailable(writeError)) throw writeError;
          throw Worker.RateLimitError();
        }
        return { events: documents.length };
      },
    );
  };
}
