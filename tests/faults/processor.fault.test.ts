import { JOBS, type IngestEventsJob } from '@analytics/common';
import { waitFor } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { Cluster } from './support/cluster';
import { checkLedger, Ledger, makeEvents } from './support/ledger';
import { getRawEventModel } from '@analytics/common';

let cluster: Cluster;
afterEach(async () => {
  await cluster.stop();
});

async function storedCount(): Promise<number> {
  return getRawEventModel(cluster.mongo).countDocuments({});
}

/** Sends `batches` batches of 10 events one after the other, recording every 202. */
async function sendLoad(ingestionUrl: string, ledger: Ledger, batches: number, label: string): Promise<void> {
  for (let i = 0; i < batches; i += 1) {
    await ledger.sendBatch(ingestionUrl, cluster.site.writeKey, makeEvents(cluster.site.siteId, 10, label));
  }
}

function expectExact(report: Awaited<ReturnType<typeof checkLedger>>): void {
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.rollupMismatches).toBe(0);
  expect(report.accepted).toBeGreaterThan(0);
}

describe('fault: processor', () => {
  it('1. kill -9 mid-batch, twice, with restarts: nothing lost or counted twice', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const ledger = new Ledger();
    const load = sendLoad(ingestion.url, ledger, 30, 'kill9');
    for (let round = 0; round < 2; round += 1) {
      const processor = await cluster.startService('processor_service');
      const before = await storedCount();
      await waitFor(async () => ((await storedCount()) > before ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 5,
      });
      process.kill(processor.pid, 'SIGKILL');
      expect((await processor.exited).signal).toBe('SIGKILL');
    }
    await load;
    await cluster.startService('processor_service');
    await waitForDrain(cluster.queue, 60_000);
    expectExact(await checkLedger('processor kill -9 twice', ledger, cluster.mongo));
  });

  it('2. a crash between the raw-event write and the rollup write (fault hook): exact after restart', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const ledger = new Ledger();
    await sendLoad(ingestion.url, ledger, 5, 'hook');
    const crashing = await cluster.startService('processor_service', {
      PROCESSOR_FAULT: 'crash-after-raw-write',
    });
    expect((await crashing.exited).code).toBe(86);
    await cluster.startService('processor_service');
    await waitForDrain(cluster.queue, 60_000);
    expectExact(await checkLedger('crash between writes', ledger, cluster.mongo));
  });

  it('3. SIGTERM under load: finishes or releases its jobs and exits 0 within the deadline', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const processor = await cluster.startService('processor_service');
    const ledger = new Ledger();
    const load = sendLoad(ingestion.url, ledger, 30, 'sigterm');
    await waitFor(async () => ((await storedCount()) > 20 ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 5,
    });
    const signalled = Date.now();
    process.kill(processor.pid, 'SIGTERM');
    const { code } = await processor.exited;
    const tookMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    // Nothing is left active: every job it held was finished (or would be released to waiting).
    expect(await cluster.queue.getActiveCount()).toBe(0);
    process.stdout.write(`SIGTERM: processor exited 0 after ${tookMs} ms\n`);
    await load;
    await cluster.startService('processor_service');
    await waitForDrain(cluster.queue, 60_000);
    expectExact(await checkLedger('processor SIGTERM under load', ledger, cluster.mongo));
  });

  it('4. the event loop blocked past the job lock: a second worker takes the job; counts still exact', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service', {
      PROCESSOR_FAULT: 'block-after-raw-write',
      PROCESSOR_FAULT_BLOCK_MS: '6000',
    });
    const ledger = new Ledger();
    await sendLoad(ingestion.url, ledger, 1, 'blocked');
    // The blocked worker holds the first job; the second one finds it stalled once its lock is gone.
    await waitFor(async () => ((await storedCount()) > 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 5,
    });
    await cluster.startService('processor_service');
    await sendLoad(ingestion.url, ledger, 10, 'blocked');
    await waitForDrain(cluster.queue, 60_000);
    // Job ids count from 1: the first job is the one the blocked worker held.
    const first = await cluster.queue.getJob('1');
    expect(await first!.getState()).toBe('completed');
    expect(first!.stalledCounter).toBeGreaterThanOrEqual(1);
    expectExact(await checkLedger('event loop blocked past the lock', ledger, cluster.mongo));
  });

  it('7. the same event_id resent and the same job delivered twice: each counted once', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    const events = makeEvents(cluster.site.siteId, 50, 'resend');
    await ledger.sendBatch(ingestion.url, cluster.site.writeKey, events);
    await ledger.sendBatch(ingestion.url, cluster.site.writeKey, events);
    for (const event of events.slice(0, 10))
      await ledger.sendOne(ingestion.url, cluster.site.writeKey, event);
    const job: IngestEventsJob = {
      v: 1,
      request_id: 'twice',
      received_at: new Date().toISOString(),
      events: events.map((e) => ({ ...e, timestamp: new Date().toISOString() })),
    };
    await cluster.queue.add(JOBS.ingestEvents, job);
    await cluster.queue.add(JOBS.ingestEvents, job);
    await waitForDrain(cluster.queue, 60_000);
    const report = await checkLedger('resent ids and duplicate jobs', ledger, cluster.mongo);
    expectExact(report);
    expect(report.stored).toBe(50);
  });

  it('8. a poison event among good ones: it fails once, the good ones are stored', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    await sendLoad(ingestion.url, ledger, 3, 'good');
    const poison = await cluster.queue.add(JOBS.ingestEvents, { v: 1, events: [{ site_id: 42 }] } as never);
    await sendLoad(ingestion.url, ledger, 3, 'good');
    await waitForDrain(cluster.queue, 60_000);
    const failed = await cluster.queue.getJob(poison.id!);
    expect(await failed!.getState()).toBe('failed');
    expect(failed!.attemptsMade).toBe(1);
    expectExact(await checkLedger('poison among good', ledger, cluster.mongo));
  });

  it('10. events on both sides of midnight UTC land in the right day', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const reporting = await cluster.startService('reporting_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const [before, after] = [day(-2), day(-1)];
    const events = makeEvents(cluster.site.siteId, 4, 'midnight').map((e, i) => ({
      ...e,
      path: '/midnight',
      timestamp: i < 2 ? `${before}T23:59:59.999Z` : `${after}T00:00:00.000Z`,
    }));
    events[1]!.timestamp = `${after}T01:59:59.999+02:00`;
    events[3]!.timestamp = `${before}T19:00:00.000-05:00`;
    await ledger.sendBatch(ingestion.url, cluster.site.writeKey, events);
    await waitForDrain(cluster.queue, 60_000);
    const views = async (date: string) => {
      const res = await fetch(`${reporting.url}/stats?site_id=${cluster.site.siteId}&date=${date}`, {
        headers: { authorization: `Bearer ${cluster.site.readKey}` },
      });
      return ((await res.json()) as { total_views: number }).total_views;
    };
    // 23:59:59.999Z and 01:59:59.999+02:00 (= 23:59:59.999Z) the day before; 00:00Z and 19:00-05:00 after.
    expect(await views(before)).toBe(2);
    expect(await views(after)).toBe(2);
    expectExact(await checkLedger('midnight UTC', ledger, cluster.mongo));
  });
});
