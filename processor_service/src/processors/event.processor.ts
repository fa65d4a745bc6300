import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  ingestEventsJobSchema,
  JOBS,
  requestsOf,
  runWithContext,
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
 */
export function createEventProcessor(
  writer: GroupCommit<RawEventDocument>,
  faults?: Pick<ProcessorFaults, 'rejectsPayload'>,
) {
  return async (job: Job<unknown>): Promise<{ events: number }> => {
    const data = job.data as { request_id?: unknown } | undefined;
    return runWithContext(
      // A v1 job is one request: its id joins the log lines; a v2 job holds several.
      { requestId: typeof data?.request_id === 'string' ? data.request_id : undefined, jobId: job.id },
      async () => {
        if (job.name !== JOBS.ingestEvents) throw new UnrecoverableError(`unknown job name "${job.name}"`);
        const { value, error } = ingestEventsJobSchema.validate(job.data);
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
