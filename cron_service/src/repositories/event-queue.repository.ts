import type { Job, JobType, Queue } from 'bullmq';
import {
  requestsOf,
  type AcceptedRequest,
  type IngestEventsJob,
  type IngestEventsJobV1,
  type IngestEventsJobV2,
  type TrackedEvent,
} from '@analytics/common';

/**
 * Job states whose payloads are still to be processed or kept for inspection: a user's events there are
 * taken out. Active jobs are left alone (their worker holds the lock); what they store is removed by the
 * erasure's later passes.
 */
export const ERASABLE_JOB_STATES: JobType[] = [
  'waiting',
  'prioritized',
  'delayed',
  'waiting-children',
  'failed',
  'completed',
];

/** Jobs read per round trip while scanning. */
const SCAN_PAGE = 200;

export interface QueuePurgeResult {
  removed: number;
  rewritten: number;
}

/** What becomes of a job's payload without the user's events: unchanged, removed, or rewritten. */
export type PayloadWithout =
  { kind: 'untouched' } | { kind: 'remove' } | { kind: 'rewrite'; data: IngestEventsJob };

/** Pure: the payload without the events of `userId` on `siteId` (a request left empty is dropped). */
export function payloadWithoutUser(data: IngestEventsJob, siteId: string, userId: string): PayloadWithout {
  const isTheUsers = (event: TrackedEvent) => event.site_id === siteId && event.user_id === userId;
  const requests = requestsOf(data);
  if (!requests.some((request) => request.events.some(isTheUsers))) return { kind: 'untouched' };
  const kept: AcceptedRequest[] = requests
    .map((request) => ({ ...request, events: request.events.filter((event) => !isTheUsers(event)) }))
    .filter((request) => request.events.length > 0);
  if (kept.length === 0) return { kind: 'remove' };
  if (data.v === 1) {
    return { kind: 'rewrite', data: { ...(data as IngestEventsJobV1), events: kept[0]!.events } };
  }
  return { kind: 'rewrite', data: { ...(data as IngestEventsJobV2), requests: kept } };
}

/**
 * Takes a user's events out of the events queue: a job holding only theirs is removed, a job holding
 * others' events too is rewritten without them (a job groups several requests). A job that moves to
 * active meanwhile refuses removal and is skipped: what it stores is removed by a later pass.
 */
export async function purgeUserJobs(
  queue: Queue<IngestEventsJob>,
  siteId: string,
  userId: string,
  signal: AbortSignal,
): Promise<QueuePurgeResult> {
  const result: QueuePurgeResult = { removed: 0, rewritten: 0 };
  for (const state of ERASABLE_JOB_STATES) {
    // Collected first, then changed: removing while paging would shift the pages.
    const touched: { job: Job<IngestEventsJob>; change: Exclude<PayloadWithout, { kind: 'untouched' }> }[] =
      [];
    for (let start = 0; ; start += SCAN_PAGE) {
      signal.throwIfAborted();
      const page = await queue.getJobs([state], start, start + SCAN_PAGE - 1, true);
      for (const job of page) {
        if (!job?.data) continue;
        const change = payloadWithoutUser(job.data, siteId, userId);
        if (change.kind !== 'untouched') touched.push({ job, change });
      }
      if (page.length < SCAN_PAGE) break;
    }
    for (const { job, change } of touched) {
      try {
        if (change.kind === 'remove') {
          await job.remove();
          result.removed += 1;
        } else {
          await job.updateData(change.data);
          result.rewritten += 1;
        }
      } catch {
        // Locked by a worker or gone already: a later pass deals with whatever it stores.
      }
    }
  }
  return result;
}
