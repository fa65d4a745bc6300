import { spawn } from 'node:child_process';
import { waitFor } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { Cluster, type RunningService } from './support/cluster';
import { checkLedger, Ledger, makeEvents } from './support/ledger';
import { TcpProxy } from './support/tcp-proxy';

let cluster: Cluster;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await cluster.stop();
  await proxy?.stop();
  proxy = undefined;
});

const BACKLOG_BATCHES = 16;
const BATCH_EVENTS = 100;
/** The acceptance bound: the backlog is gone within this long after the database is fast again. */
const DRAIN_AFTER_RECOVERY_MS = 30_000;

/** A processor whose MongoDB connection goes through the proxy (ingestion's and the test's do not). */
async function startProxiedProcessor(): Promise<{ processor: RunningService; proxy: TcpProxy }> {
  const direct = new URL(cluster.env.MONGODB_URI!);
  proxy = await new TcpProxy(direct.hostname, Number(direct.port)).start();
  const viaProxy = new URL(direct);
  viaProxy.port = String(proxy.port);
  const processor = await cluster.startService('processor_service', {
    MONGODB_URI: viaProxy.toString(),
    MAX_BATCH_EVENTS: '2000',
    INITIAL_BATCH_EVENTS: '1000',
  });
  return { processor, proxy };
}

/** 1,600 events in 16 requests sent at once; the ledger keeps every 202. */
async function sendBacklog(ingestionUrl: string, ledger: Ledger, label: string): Promise<void> {
  await Promise.all(
    Array.from({ length: BACKLOG_BATCHES }, () =>
      ledger.sendBatch(
        ingestionUrl,
        cluster.site.writeKey,
        makeEvents(cluster.site.siteId, BATCH_EVENTS, label),
      ),
    ),
  );
  expect(ledger.accepted.size).toBe(BACKLOG_BATCHES * BATCH_EVENTS);
}

/** The processor's warnings about its writes, parsed from its JSON log lines. */
function writeWarnings(processor: RunningService): Record<string, unknown>[] {
  const warnings = processor
    .output()
    .split('\n')
    .filter((line) => line.includes('database write'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const summary = warnings.map(
    (w) =>
      `${String(w.errorName ?? 'slow')} ${String(w.batchEvents)}->${String(w.nextBatchLimit)} ${String(w.elapsedMs)}ms`,
  );
  process.stdout.write(`SLOW-DB write warnings: ${summary.join(' | ')}\n`);
  return warnings;
}

/** The processor's last log lines and /health, printed when a drain is slow, so the failure says why. */
async function explainSlowDrain(processor: RunningService): Promise<void> {
  const health = await fetch(`${processor.url}/health`)
    .then((res) => res.text())
    .catch((e: unknown) => String(e));
  process.stdout.write(`PROCESSOR LOG (tail):\n${processor.output().slice(-8000)}\nHEALTH: ${health}\n`);
}

/** How long the queue took to drain after the database recovered. */
async function drainTime(processor: RunningService): Promise<number> {
  const recovered = Date.now();
  try {
    await waitForDrain(cluster.queue, 90_000);
  } catch (error) {
    await explainSlowDrain(processor);
    throw error;
  }
  const ms = Date.now() - recovered;
  if (ms >= DRAIN_AFTER_RECOVERY_MS) await explainSlowDrain(processor);
  return ms;
}

function expectExact(report: Awaited<ReturnType<typeof checkLedger>>, accepted: number): void {
  expect(report.accepted).toBe(accepted);
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.rollupMismatches).toBe(0);
}

describe('fault: a slow MongoDB under a backlog', () => {
  it('1. replies 3 s late for 12 s: writes shrink and say why, the backlog drains within 30 s of recovery, exact', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const { processor, proxy } = await startProxiedProcessor();
    const ledger = new Ledger();
    proxy.replyLatencyMs = 3000;
    await sendBacklog(ingestion.url, ledger, 'latency');
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    proxy.replyLatencyMs = 0;
    const drainedMs = await drainTime(processor);
    process.stdout.write(`SLOW-DB latency case: drained ${drainedMs} ms after recovery\n`);
    expect(drainedMs).toBeLessThan(DRAIN_AFTER_RECOVERY_MS);

    const warnings = writeWarnings(processor);
    const limits = warnings.map((w) => w.nextBatchLimit as number);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ elapsedMs: expect.any(Number), batchEvents: expect.any(Number) });
    // Each slow write halves the next one: the limit went below the first write's size.
    expect(Math.min(...limits)).toBeLessThan(warnings[0]!.batchEvents as number);
    expectExact(await checkLedger('slow database: 3 s replies', ledger, cluster.mongo), 1600);
  });

  it('2. stops answering for 20 s: each pause names its cause, batches shrink, drains within 30 s of recovery, exact', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const { processor, proxy } = await startProxiedProcessor();
    const ledger = new Ledger();
    await sendBacklog(ingestion.url, ledger, 'hold');
    // Hold as soon as the processor is writing, so writes are cut off half-way.
    await waitFor(async () => ((await cluster.queue.getActiveCount()) > 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 5,
      what: 'the processor to take jobs',
    });
    proxy.hold();
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    proxy.release();
    const drainedMs = await drainTime(processor);
    process.stdout.write(`SLOW-DB hold case: drained ${drainedMs} ms after recovery\n`);
    expect(drainedMs).toBeLessThan(DRAIN_AFTER_RECOVERY_MS);

    const failures = writeWarnings(processor).filter(
      (w) => w.message === 'database write failed; pausing the queue',
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toMatchObject({
        errorName: expect.any(String),
        errorMessage: expect.any(String),
        batchEvents: expect.any(Number),
        elapsedMs: expect.any(Number),
        consecutiveFailures: expect.any(Number),
        pauseMs: expect.any(Number),
      });
    }
    // Never the same size twice in a row: every failed write's successor was at most half as large.
    expect(failures[0]!.nextBatchLimit as number).toBeLessThanOrEqual(
      (failures[0]!.batchEvents as number) / 2,
    );
    // At most one line per second per cause (the rest are counted in the next line).
    const lines = failures.length;
    expect(lines).toBeLessThanOrEqual(30);
    expectExact(await checkLedger('slow database: 20 s without answers', ledger, cluster.mongo), 1600);
  });

  it('3. a 1,600-event backlog while another process keeps one core busy: drained, exact', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    // A CPU hog beside the services, bounded in time so it can never outlive the test.
    const hog = spawn(process.execPath, [
      '-e',
      'const end = Date.now() + 120000; while (Date.now() < end) {}',
    ]);
    try {
      await cluster.startService('processor_service');
      const ledger = new Ledger();
      const sent = Date.now();
      await sendBacklog(ingestion.url, ledger, 'busy');
      const lastAccepted = Date.now();
      await waitForDrain(cluster.queue, 110_000);
      process.stdout.write(
        `SLOW-DB busy-core case: sent in ${lastAccepted - sent} ms, drained ${Date.now() - lastAccepted} ms after the last 202\n`,
      );
      expectExact(await checkLedger('1,600 events beside a busy core', ledger, cluster.mongo), 1600);
    } finally {
      hog.kill('SIGKILL');
    }
  });
});
