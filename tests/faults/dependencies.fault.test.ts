import { postJson, waitFor } from '@analytics/common/testing';
import { waitForDrain } from '../support/recount';
import { Cluster } from './support/cluster';
import { checkLedger, Ledger, makeEvents } from './support/ledger';

let cluster: Cluster;
afterEach(async () => {
  await cluster.stop();
});

function expectExact(report: Awaited<ReturnType<typeof checkLedger>>): void {
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.rollupMismatches).toBe(0);
  expect(report.accepted).toBeGreaterThan(0);
}

/** One single event, outside the ledger: to see how ingestion answers right now. */
function sendProbe(ingestionUrl: string): ReturnType<typeof postJson> {
  return postJson(`${ingestionUrl}/event`, makeEvents(cluster.site.siteId, 1, 'probe')[0], {
    'x-api-key': cluster.site.writeKey,
  });
}

/** Waits (bounded) until ingestion answers 202 again after an outage. */
async function waitUntilAccepting(ingestionUrl: string): Promise<void> {
  await waitFor(async () => ((await sendProbe(ingestionUrl)).status === 202 ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: 'ingestion to accept again',
  });
}

/** Sends batches of 5, about 40 a second, until stopped; the ledger keeps every 202. */
function continuousLoad(url: string, ledger: Ledger, label: string): { stop: () => Promise<number[]> } {
  let running = true;
  const latencies: number[] = [];
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      await ledger.sendBatch(url, cluster.site.writeKey, makeEvents(cluster.site.siteId, 5, label));
      latencies.push(Date.now() - started);
      // Paced, so a case stays at a few hundred events: the test engine slows down with every document.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

describe('fault: dependencies', () => {
  it('5. Redis frozen 5 s, then killed and restarted from its AOF (appendfsync always): 503 fast, no hang, nothing accepted lost', async () => {
    cluster = await new Cluster({ appendfsync: 'always' }).start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    const load = continuousLoad(ingestion.url, ledger, 'redis');
    await new Promise((resolve) => setTimeout(resolve, 500));

    cluster.redis.freeze();
    const frozenAnswers: { status: number; ms: number }[] = [];
    const frozenUntil = Date.now() + 5000;
    while (Date.now() < frozenUntil) {
      const started = Date.now();
      const { status } = await sendProbe(ingestion.url);
      frozenAnswers.push({ status, ms: Date.now() - started });
    }
    process.kill(cluster.redis.pid, 'SIGKILL');
    await cluster.redis.stop();
    const downStarted = Date.now();
    const down = await sendProbe(ingestion.url);
    const downMs = Date.now() - downStarted;
    await cluster.restartRedis();
    // Keep sending until ingestion accepts again, then a little longer.
    const recovered = Date.now();
    await waitUntilAccepting(ingestion.url);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const latencies = await load.stop();
    process.stdout.write(
      `REDIS: frozen answers ${JSON.stringify(frozenAnswers.slice(0, 3))}… (max ${Math.max(...frozenAnswers.map((a) => a.ms))} ms), ` +
        `down answer ${down.status} in ${downMs} ms, accepting again after ${Date.now() - recovered} ms, ` +
        `slowest load request ${Math.max(...latencies)} ms\n`,
    );
    expect(frozenAnswers.every((a) => a.status === 503 && a.ms < 2000)).toBe(true);
    expect(down.status).toBe(503);
    expect(downMs).toBeLessThan(2000);
    expect(Math.max(...latencies)).toBeLessThan(5000);
    await waitForDrain(cluster.queue, 120_000);
    expectExact(await checkLedger('redis frozen, killed, restarted from AOF always', ledger, cluster.mongo));
  });

  it('5b. Redis killed under load with appendfsync everysec: the loss window is measured, never a duplicate', async () => {
    cluster = await new Cluster({ appendfsync: 'everysec' }).start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    const load = continuousLoad(ingestion.url, ledger, 'everysec');
    await waitFor(() => (ledger.accepted.size >= 200 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 5,
    });
    process.kill(cluster.redis.pid, 'SIGKILL');
    await cluster.redis.stop();
    await cluster.restartRedis();
    await waitUntilAccepting(ingestion.url);
    await load.stop();
    await waitForDrain(cluster.queue, 60_000);
    const report = await checkLedger('redis kill -9 with AOF everysec (loss window)', ledger, cluster.mongo);
    // everysec may lose what Redis acknowledged in its last second; it never invents or doubles events.
    expect(report.duplicated).toBe(0);
    expect(report.rollupMismatches).toBe(0);
  });

  it('6. the MongoDB engine frozen 10 s while the processor runs: writes time out, jobs retry and complete', async () => {
    cluster = await new Cluster().start();
    if (!cluster.mongoServer) {
      process.stdout.write('MONGO: skipped, TEST_MONGODB_URI is a server this suite cannot freeze\n');
      return;
    }
    const mongoServer = cluster.mongoServer;
    const ingestion = await cluster.startService('ingestion_service');
    const processor = await cluster.startService('processor_service');
    const ledger = new Ledger();
    for (let i = 0; i < 5; i += 1) {
      await ledger.sendBatch(
        ingestion.url,
        cluster.site.writeKey,
        makeEvents(cluster.site.siteId, 10, 'mongo'),
      );
    }
    mongoServer.freeze();
    // Ingestion keeps accepting from its in-memory site keys while MongoDB is frozen.
    for (let i = 0; i < 10; i += 1) {
      const result = await ledger.sendBatch(
        ingestion.url,
        cluster.site.writeKey,
        makeEvents(cluster.site.siteId, 10, 'mongo'),
      );
      expect(result.status).toBe(202);
    }
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    mongoServer.resume();
    await waitForDrain(cluster.queue, 90_000);
    // The timed-out batches paused the queue with a growing back-off instead of spending attempts.
    const pauses = processor.output().match(/database write failed; pausing the queue/g)?.length ?? 0;
    process.stdout.write(`MONGO: the processor paused the queue ${pauses} times while MongoDB was frozen\n`);
    expect(pauses).toBeGreaterThan(0);
    expect(await cluster.queue.getFailedCount()).toBe(0);
    expectExact(await checkLedger('mongodb frozen 10 s', ledger, cluster.mongo));
  });

  it('9. ingestion kill -9 under load: every id answered 202 is processed', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    await cluster.startService('processor_service');
    const ledger = new Ledger();
    const loads = [0, 1, 2, 3].map((i) => continuousLoad(ingestion.url, ledger, `ingest${i}`));
    await waitFor(() => (ledger.accepted.size >= 100 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 5,
    });
    process.kill(ingestion.pid, 'SIGKILL');
    expect((await ingestion.exited).signal).toBe('SIGKILL');
    await Promise.all(loads.map((l) => l.stop()));
    await waitForDrain(cluster.queue, 60_000);
    expectExact(await checkLedger('ingestion kill -9 under load', ledger, cluster.mongo));
  });
});
