import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ingestEventsJobSchema, JOBS, runWithContext, type IngestEventsJob } from '@analytics/common';
import { toRawEventDocument } from '../repositories/raw-event.repository';
import type { RawEventDocument } from '@analytics/common';
import type { BatchWriter } from '../services/batch-writer';
import { DatabaseBackoff } from '../services/database-backoff';
import type { ProcessorFaults } from '../services/faults';

/**
 * Checks a job's payload and hands its events to the batch writer; resolves when they are stored.
 * A payload that does not match the contract can never succeed: it fails at once, without retries.
 * When MongoDB is unavailable the job goes back to waiting without spending an attempt (DatabaseBackoff).
 */
export function createEventProcessor(
  writer: BatchWriter<RawEventDocument>,
  faults: Pick<ProcessorFaults, 'rejectsPayload'> = { rejectsPayload: () => false },
  backoff?: DatabaseBackoff,
) {
  return async (job: Job<unknown>): Promise<{ events: number }> => {
    const data = job.data as Partial<IngestEventsJob> | undefined;
    return runWithContext(
      { requestId: typeof data?.request_id === 'string' ? data.request_id : undefined, jobId: job.id },
      async () => {
        if (job.name !== JOBS.ingestEvents) throw new UnrecoverableError(`unknown job name "${job.name}"`);
        const { value, error } = ingestEventsJobSchema.validate(job.data, {
          abortEarly: true,
          convert: false,
        });
        if (error) throw new UnrecoverableError(`malformed payload: ${error.message}`);
        if (faults.rejectsPayload())
          throw new UnrecoverableError('malformed payload (injected by PROCESSOR_FAULT)');
        const receivedAt = new Date(value.received_at);
        try {
          await writer.add(
            value.events.map((event) =>
              toRawEventDocument({ event, requestId: value.request_id, receivedAt }),
            ),
          );
        } catch (writeError) {
          if (!backoff || !DatabaseBackoff.isUnavailable(writeError)) throw writeError;
          await backoff.pause();
          throw Worker.RateLimitError();
        }
        backoff?.succeeded();
        return { events: value.events.length };
      },
    );
  };
}
