import { getRawEventModel, JOBS, type IngestEventsJob } from '@analytics/common';
import {
  getFreePort,
  spawnService,
  waitFor,
  waitForReady,
  type ServiceProcess,
  type TestSite,
} from '@analytics/testkit';
import { expectedStats, type SentEvent } from '../support/ground-truth';
import { duplicateRawEvents, rollupDifferences, waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

const HOUR_MS = 3_600_000;
let sequence = 0;

function pageViews(site: TestSite, count: number, prefix: string): SentEvent[] {
  return Array.from({ length: count }, (_, i) => {
    sequence += 1;
    return {
      site_id: site.siteId,
      event_id: `${prefix}-${sequence}`,
      event_type: 'page_view',
      path: `/p${i % 7}`,
      user_id: `u${i % 11}`,
      timestamp: new Date(Date.now() - (i % 3) * HOUR_MS).toISOString(),
    };
  });
}

async function expectExact(system: TestSystem, site: TestSite, sent: SentEvent[]): Promise<void> {
  expect(await duplicateRawEvents(system.ingestion.mongo)).toBe(0);
  expect(await rollupDifferences(system.ingestion.mongo)).toEqual([]);
  const res = await system.report
    .get(`/stats?site_id=${site.siteId}`)
    .set('authorization', `Bearer ${site.readKey}`);
  const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
  expect(res.body).toMatchObject(expectedStats(sent, site.siteId, end - 24 * HOUR_MS, end));
  const stored = await getRawEventModel(system.ingestion.mongo).countDocuments({ site_id: site.siteId });
  expect(stored).toBe(new Set(sent.map((e) => e.event_id)).size);
}

function job(events: SentEvent[]): IngestEventsJob {
  return { v: 1, request_id: 'test-request', received_at: new Date().toISOString(), events };
}

describe('the processor in this process', () => {
  let system: TestSystem;
  afterEach(async () => {
    await system.close();
  });

  it('when the same job is delivered twice and ids are resent in other jobs, then each event counts once', async () => {
    system = await startSystem();
    const site = await system.newSite();
    const events = pageViews(site, 40, 'dup');
    await system.queue.add(JOBS.ingestEvents, job(events));
    await system.queue.add(JOBS.ingestEvents, job(events));
    await system.queue.add(JOBS.ingestEvents, job([...events.slice(0, 10), ...events.slice(30)]));
    await waitForDrain(system.queue);
    await expectExact(system, site, events);
  });

  it('when a resent event id carries another user and path, then only the stored (first) version counts', async () => {
    system = await startSystem();
    const site = await system.newSite();
    const [first] = pageViews(site, 1, 'changed');
    await system.queue.add(JOBS.ingestEvents, job([first!]));
    await waitForDrain(system.queue);
    await system.queue.add(
      JOBS.ingestEvents,
      job([{ ...first!, user_id: 'someone-else', path: '/elsewhere' }]),
    );
    await waitForDrain(system.queue);
    await expectExact(system, site, [first!]);
    const res = await system.report
      .get(`/stats?site_id=${site.siteId}`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(res.body).toMatchObject({
      total_views: 1,
      unique_users: 1,
      top_paths: [{ path: first!.path, views: 1 }],
    });
  });

  it('when a batch fails between the raw write and the rollup write, then the retry leaves exact numbers', async () => {
    system = await startSystem({ processorEnv: { PROCESSOR_FAULT: 'fail-after-raw-write-once' } });
    const site = await system.newSite();
    const events = pageViews(site, 30, 'fault');
    const res = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events });
    expect(res.status).toBe(202);
    await waitForDrain(system.queue);
    const [completed] = await system.queue.getJobs(['completed']);
    expect(completed!.attemptsMade).toBe(2);
    await expectExact(system, site, events);
  });

  it('when a v2 job holds several requests of two sites, then each event is stored once with its own request id', async () => {
    system = await startSystem();
    const [siteA, siteB] = [await system.newSite(), await system.newSite()];
    const [a, b] = [pageViews(siteA, 12, 'v2a'), pageViews(siteB, 8, 'v2b')];
    const at = new Date().toISOString();
    const requests = [
      { request_id: 'request-a1', received_at: at, events: a.slice(0, 5) },
      { request_id: 'request-b', received_at: at, events: b },
      { request_id: 'request-a2', received_at: at, events: a.slice(5) },
    ];
    await system.queue.add(JOBS.ingestEvents, { v: 2, requests });
    // Delivered again, as at-least-once delivery may: nothing counts twice.
    await system.queue.add(JOBS.ingestEvents, { v: 2, requests: requests.slice(1) });
    await waitForDrain(system.queue);
    await expectExact(system, siteA, a);
    await expectExact(system, siteB, b);
    const stored = await getRawEventModel(system.ingestion.mongo)
      .find({ site_id: { $in: [siteA.siteId, siteB.siteId] } }, { event_id: 1, request_id: 1 })
      .lean();
    const requestOf = new Map(stored.map((doc) => [doc.event_id, doc.request_id]));
    for (const request of requests) {
      for (const event of request.events) expect(requestOf.get(event.event_id)).toBe(request.request_id);
    }
  });

  it('when a poison payload arrives among good jobs, then it fails once, is never retried, and the others are stored', async () => {
    system = await startSystem();
    const site = await system.newSite();
    const good = pageViews(site, 20, 'good');
    await system.queue.add(JOBS.ingestEvents, job(good.slice(0, 10)));
    const poison = await system.queue.add(JOBS.ingestEvents, { v: 1, events: [{ site_id: 'x' }] } as never);
    const poisonV2 = await system.queue.add(JOBS.ingestEvents, {
      v: 2,
      requests: [{ request_id: 'r', received_at: new Date().toISOString(), events: [{ site_id: 'x' }] }],
    } as never);
    const unknown = await system.queue.add('not-a-job', job(good.slice(0, 1)) as never);
    await system.queue.add(JOBS.ingestEvents, job(good.slice(10)));
    await waitForDrain(system.queue);
    for (const id of [poison.id!, poisonV2.id!, unknown.id!]) {
      const failed = await system.queue.getJob(id);
      expect(await failed!.getState()).toBe('failed');
      expect(failed!.attemptsMade).toBe(1);
      expect(failed!.failedReason).toMatch(/malformed payload|unknown job name/);
    }
    expect(await system.queue.getFailedCount()).toBe(3);
    await expectExact(system, site, good);
    const health = await import('supertest').then((s) => s.default(system.processor!.app).get('/health'));
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      checks: { redis: 'ok', mongodb: 'ok' },
      queue: { waiting: 0, active: 0, failed: 3, oldest_waiting_age_ms: null },
    });
  });
});

describe('the processor as a real process', () => {
  let system: TestSystem;
  const running: ServiceProcess[] = [];
  afterEach(async () => {
    running.splice(0).forEach((p) => p.kill());
    await system.close();
  });

  async function startWorkerProcess(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = spawnService('processor_service', {
      ...system.env,
      LOG_LEVEL: 'warn',
      PORT: String(await getFreePort()),
      // Short locks, so the jobs of a killed worker are taken over in seconds, not a minute.
      WORKER_LOCK_DURATION_MS: '1500',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '20',
      MAX_BATCH_EVENTS: '50',
      WRITE_ADOPT_AFTER_MS: '2000',
      ...extra,
    });
    running.push(service);
    await waitForReady(service);
    return service;
  }

  it('when it is killed with SIGKILL mid-stream twice and restarted, then no event is lost or counted twice', async () => {
    system = await startSystem({ withoutProcessor: true });
    const site = await system.newSite();
    const sent: SentEvent[] = [];
    const send = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const events = pageViews(site, 10, 'kill');
        const res = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events });
        expect(res.status).toBe(202);
        sent.push(...events);
      }
    };
    for (let round = 0; round < 2; round += 1) {
      const worker = await startWorkerProcess();
      const sending = send(10);
      // Kill once the worker has stored some, but not all, of what is coming.
      await waitFor(
        async () =>
          (await getRawEventModel(system.ingestion.mongo).countDocuments({})) > 0 ? true : undefined,
        {
          timeoutMs: 10_000,
          intervalMs: 10,
        },
      );
      process.kill(worker.pid, 'SIGKILL');
      expect((await worker.exited).signal).toBe('SIGKILL');
      await sending;
    }
    await startWorkerProcess();
    await waitForDrain(system.queue, 30_000);
    expect(sent.length).toBe(200);
    await expectExact(system, site, sent);
  }, 60_000);

  it('when it crashes between the raw-event write and the rollup write (fault hook), then after a restart the numbers are exact', async () => {
    system = await startSystem({ withoutProcessor: true });
    const site = await system.newSite();
    const events = pageViews(site, 30, 'crash');
    const res = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events });
    expect(res.status).toBe(202);
    const crashing = await startWorkerProcess({ PROCESSOR_FAULT: 'crash-after-raw-write' });
    expect((await crashing.exited).code).toBe(86);
    // The raw events are in, the rollups are not: exactly the window the hook opens.
    expect(await getRawEventModel(system.ingestion.mongo).countDocuments({})).toBe(30);
    expect(await rollupDifferences(system.ingestion.mongo)).not.toEqual([]);
    await startWorkerProcess();
    await waitForDrain(system.queue, 30_000);
    await expectExact(system, site, events);
  }, 60_000);
});
