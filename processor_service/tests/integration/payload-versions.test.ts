import { Queue, Worker, type Job } from 'bullmq';
import {
  JOBS,
  PAYLOAD_VERSION_READ,
  PAYLOAD_VERSION_WRITTEN,
  type AcceptedRequest,
  type RawEventDocument,
} from '@analytics/common';
import { testRedisUrl, uniqueTestNames, waitFor } from '@analytics/testkit';
import { packJobs } from '../../../ingestion_service/src/services/group-commit.service';
import { createEventProcessor } from '../../src/processors/event.processor';
import type { GroupCommit } from '../../src/services/group-commit.service';
import { previousReleaseJobSchema } from '../fixtures/previous-release-reader';

/**
 * Jobs cross releases in both directions: during a release the new processor reads what the old
 * ingestion wrote, and after a rollback the old processor reads what the new ingestion wrote. Each case
 * enqueues with one release's format on a real queue and processes with the other release's reader.
 */
const names = uniqueTestNames('payloads');
const connection = { url: testRedisUrl(), maxRetriesPerRequest: null };
let queue: Queue;
let worker: Worker | undefined;

beforeAll(async () => {
  queue = new Queue(names.queueName, { connection, prefix: names.redisPrefix });
  await queue.waitUntilReady();
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await queue.obliterate({ force: true });
});
afterAll(async () => {
  await queue.close();
});

function request(id: string, count: number): AcceptedRequest {
  return {
    request_id: `req-${id}`,
    received_at: '2025-11-12T10:00:00.000Z',
    events: Array.from({ length: count }, (_, i) => ({
      site_id: 'versions',
      event_id: `${id}-${i}`,
      event_type: 'page_view',
      path: `/p/${i}`,
      timestamp: '2025-11-12T10:00:00.000Z',
    })),
  };
}

/** This release's processor over the queue, with a writer that keeps what it was given. */
function startThisRelease(stored: RawEventDocument[]): Worker {
  const writer = {
    add: async (documents: RawEventDocument[]) => void stored.push(...documents),
  } as unknown as GroupCommit<RawEventDocument>;
  return new Worker(names.queueName, createEventProcessor(writer), { connection, prefix: names.redisPrefix });
}

async function settled(jobs: Job[]): Promise<string[]> {
  return waitFor(
    async () => {
      const states = await Promise.all(jobs.map((job) => queue.getJobState(job.id!)));
      return states.every((s) => s !== 'waiting' && s !== 'active') ? states : undefined;
    },
    { timeoutMs: 10_000 },
  );
}

describe('job payloads across releases', () => {
  it('when the release before enqueued v1 and v2 jobs, then this release stores every event', async () => {
    const stored: RawEventDocument[] = [];
    const jobs = [
      await queue.add(JOBS.ingestEvents, { v: 1, ...request('one', 2) }),
      await queue.add(JOBS.ingestEvents, { v: 2, requests: [request('two-a', 3), request('two-b', 1)] }),
    ];
    worker = startThisRelease(stored);
    expect(await settled(jobs)).toEqual(['completed', 'completed']);
    expect(stored.map((d) => d.event_id).sort()).toEqual(
      ['one-0', 'one-1', 'two-a-0', 'two-a-1', 'two-a-2', 'two-b-0'].sort(),
    );
    expect(stored.find((d) => d.event_id === 'two-b-0')?.request_id).toBe('req-two-b');
  });

  it('when the release after enqueued a v3 job with compat 2 and new fields, then this release reads its v2 part', async () => {
    const stored: RawEventDocument[] = [];
    const later = request('three', 2);
    const job = await queue.add(JOBS.ingestEvents, {
      v: PAYLOAD_VERSION_READ + 1,
      compat: PAYLOAD_VERSION_READ,
      trace: { sampled: true },
      requests: [
        {
          ...later,
          client: 'sdk-9',
          events: later.events.map((e) => ({ ...e, visitor_hint: 'abc', device: 'mobile' })),
        },
      ],
    });
    worker = startThisRelease(stored);
    expect(await settled([job])).toEqual(['completed']);
    expect(stored.map((d) => d.event_id).sort()).toEqual(['three-0', 'three-1']);
    expect(stored[0]).not.toHaveProperty('visitor_hint');
  });

  it('when a later job cannot be read by this release (no compat), then it is kept delayed, never failed', async () => {
    const stored: RawEventDocument[] = [];
    const job = await queue.add(JOBS.ingestEvents, { v: 9, batches: [[1, 2]] });
    worker = startThisRelease(stored);
    expect(await settled([job])).toEqual(['delayed']);
    expect(stored).toEqual([]);
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('when this release enqueues, then the release before reads every job (after a rollback)', async () => {
    expect(PAYLOAD_VERSION_WRITTEN).toBe(2);
    const written = packJobs([request('new-a', 300), request('new-b', 300), request('new-c', 1)]);
    const jobs = await queue.addBulk(written.map((data) => ({ name: JOBS.ingestEvents, data })));
    const seen: string[] = [];
    // The old processor: its own payload check, then the events of each request.
    worker = new Worker(
      names.queueName,
      async (job: Job) => {
        const { error, value } = previousReleaseJobSchema.validate(job.data);
        if (error) throw new Error(`malformed payload: ${error.message}`);
        for (const r of (value as { requests: AcceptedRequest[] }).requests)
          seen.push(...r.events.map((e) => e.event_id));
      },
      { connection, prefix: names.redisPrefix },
    );
    expect(await settled(jobs)).toEqual(jobs.map(() => 'completed'));
    expect(seen).toHaveLength(601);
  });
});
