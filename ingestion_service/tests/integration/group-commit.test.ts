import { requestsOf, type AcceptedRequest, type TrackedEvent } from '@analytics/common';
import { GroupCommit } from '../../src/services/group-commit.service';
import { RateLimits } from '../../src/services/rate-limit.service';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

let h: IngestionHarness;
let sequence = 0;

beforeAll(async () => {
  h = await startIngestionHarness();
});
afterAll(async () => {
  await h.close();
});

function acceptedRequest(siteId: string, events: number): AcceptedRequest {
  sequence += 1;
  const at = new Date().toISOString();
  const tracked: TrackedEvent[] = Array.from({ length: events }, (_, i) => ({
    site_id: siteId,
    event_id: `gc-${sequence}-${i}`,
    event_type: 'page_view',
    path: '/',
    timestamp: at,
  }));
  return { request_id: `request-${sequence}`, received_at: at, events: tracked };
}

function groupCommit(limits: { ipPerMinute: number; sitePerSecond: number }): GroupCommit {
  const rateLimits = new RateLimits(h.service.redis, { ...limits, redisPrefix: h.config.redis.prefix });
  return new GroupCommit({ limits: rateLimits, queue: h.service.queue, deadlineMs: 1200 });
}

describe('group commit (real Redis)', () => {
  it('when 50 requests arrive in one turn, then they are stored as one job holding each request whole', async () => {
    const jobsBefore = (await h.jobs()).length;
    const commit = groupCommit({ ipPerMinute: 0, sitePerSecond: 0 });
    const requests = Array.from({ length: 50 }, () => acceptedRequest(h.site.siteId, 1));
    await Promise.all(
      requests.map((r) => commit.commit({ ipKey: '10.0.0.1', siteId: h.site.siteId, events: 1 }, r)),
    );

    const jobs = (await h.jobs()).slice(jobsBefore);
    expect(jobs).toHaveLength(1);
    expect(requestsOf(jobs[0]!.data)).toEqual(requests);
  });

  it('when requests together hold more than 500 events, then each job holds whole requests and at most 500', async () => {
    const jobsBefore = (await h.jobs()).length;
    const commit = groupCommit({ ipPerMinute: 0, sitePerSecond: 0 });
    const requests = [300, 300, 150, 500].map((n) => acceptedRequest(h.site.siteId, n));
    await Promise.all(
      requests.map((r) =>
        commit.commit({ ipKey: '10.0.0.2', siteId: h.site.siteId, events: r.events.length }, r),
      ),
    );

    const jobs = (await h.jobs()).slice(jobsBefore);
    expect(jobs.map((job) => requestsOf(job.data).map((r) => r.events.length))).toEqual([
      [300],
      [300, 150],
      [500],
    ]);
    expect(jobs.flatMap((job) => requestsOf(job.data))).toEqual(requests);
  });

  it('when one flush holds requests beyond both limits, then those get 429 and only the others are stored', async () => {
    const jobsBefore = (await h.jobs()).length;
    const commit = groupCommit({ ipPerMinute: 3, sitePerSecond: 500 });
    const siteId = h.site.siteId;
    // Address A: 4 requests (the 4th over its limit). Address B: 300 + 300 events (the second over the site's).
    const claims = [
      { ipKey: '10.1.0.1', events: 1 },
      { ipKey: '10.1.0.1', events: 1 },
      { ipKey: '10.1.0.1', events: 1 },
      { ipKey: '10.1.0.1', events: 1 },
      { ipKey: '10.1.0.2', events: 300 },
      { ipKey: '10.1.0.2', events: 300 },
    ];
    const requests = claims.map((c) => acceptedRequest(siteId, c.events));
    const outcomes = await Promise.allSettled(
      claims.map((c, i) => commit.commit({ ...c, siteId }, requests[i]!)),
    );

    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(refusals.map((e: { status: number; code: string }) => [e.status, e.code])).toEqual([
      [429, 'rate-limited'],
      [429, 'rate-limited'],
    ]);
    const first = outcomes[0]!;
    expect(first.status === 'fulfilled' && first.value.ip).toMatchObject({ limit: 3, used: 1 });
    const stored = (await h.jobs()).slice(jobsBefore).flatMap((job) => requestsOf(job.data));
    expect(stored).toEqual([requests[0], requests[1], requests[2], requests[4]]);
  });
});
