import { setTimeout as sleep } from 'node:timers/promises';
import { insertTestSite } from '@analytics/common/testing';
import {
  benchMongo,
  Cleanup,
  freshDatabase,
  startProcessorHost,
  startService,
  type BenchContext,
  type Started,
} from '../context';
import {
  batchRequests,
  eventRequest,
  eventRequests,
  pageView,
  statsRequest,
  type BenchSite,
} from '../fixtures';
import { getJson, runLoad, send, sendAccepted, summarise, type LoadResult } from '../load';
import type { RunResult } from '../results';
import { WorkerHost, workerDelta } from '../worker-host';

const POLL_INTERVAL_MS = 10;
/** Background events stored before the measurement, then re-delivered at the chosen rate. */
const STORED_BACKGROUND_EVENTS = 200;

const totalViews = async (reporting: Started, site: BenchSite): Promise<number> => {
  const request = statsRequest(site);
  return (await getJson<{ total_views: number }>(reporting.port, request.path, request.headers)).total_views;
};

/** Probes (new events) sent one at a time while `running()`; each timed from its 202 until /stats counts it. */
async function runProbes(ingestion: Started, reporting: Started, site: BenchSite, running: () => boolean) {
  const latencies: number[] = [];
  const first = await totalViews(reporting, site);
  for (let k = 1; running(); k++) {
    const { status } = await send(ingestion.port, eventRequest(site, pageView(site.siteId, k)));
    const acceptedAt = performance.now();
    if (status !== 202) throw new Error(`probe answered ${status}`);
    while ((await totalViews(reporting, site)) < first + k) {
      if (performance.now() - acceptedAt > 60_000) throw new Error(`probe ${k} not counted after 60 s`);
      await sleep(POLL_INTERVAL_MS);
    }
    latencies.push(performance.now() - acceptedAt);
  }
  return latencies;
}

/**
 * Freshness through the whole system (ingestion → Redis → processor → MongoDB → reporting) at 200 events/s
 * (autocannon's overallRate, 16 connections):
 * 1. background load of re-delivered (already stored) events, each through every step and round trip of
 *    the processor but with no insert for the test engine (its inserts cost time proportional to the
 *    collection); probes, new events sent one at a time, timed from their 202 until /stats counts them;
 * 2. new events only at the same rate for a short while: the test engine sets the pace. Timed from each
 *    202 until /stats counts as many events as had been accepted up to it (exact when processing is
 *    first-in first-out, which the queue and the group commit are, give or take one write).
 */
export async function runFreshness(ctx: BenchContext, result: RunResult): Promise<void> {
  const { rate, durationMs, newEventsMs } = ctx.settings.freshness;
  const cleanup = new Cleanup();
  let running = true;
  let polling = true;
  try {
    const mongoUri = freshDatabase(ctx, 'freshness');
    const mongo = await benchMongo(cleanup, mongoUri);
    const [background, fresh, probeSite] = [
      await insertTestSite(mongo),
      await insertTestSite(mongo),
      await insertTestSite(mongo),
    ];
    const [ingestion, processor, reporting] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', mongoUri),
      startProcessorHost(ctx, cleanup, mongoUri),
      startService(ctx, cleanup, 'reporting_service', mongoUri),
      startService(ctx, cleanup, 'cron_service', mongoUri),
    ]);
    const host = new WorkerHost(processor.child);
    const atRate = (
      requests: ReturnType<typeof eventRequests>,
      ms: number,
      onResponse?: (s: number, at: number) => void,
    ) =>
      runLoad({
        port: ingestion.port,
        requests,
        connections: 16,
        durationMs: ms,
        overallRate: rate,
        onResponse,
      });
    const accepted = (load: LoadResult): number => load.statuses['202'] ?? 0;

    // 1. Store the background events once (this warms the pipeline up too), then re-deliver them.
    const shape = { paths: 20, users: 50, idPrefix: 'bg' };
    await sendAccepted(
      ingestion.port,
      batchRequests(background, STORED_BACKGROUND_EVENTS / 100, 100, 0, shape),
      2,
      'background',
    );
    let done = (await host.waitForEvents(STORED_BACKGROUND_EVENTS, 60_000)).events;
    const before = await host.call('figures');
    const probes = runProbes(ingestion, reporting, probeSite, () => running);
    probes.catch(() => undefined); // awaited below; a failure must not crash the run meanwhile
    const load = await atRate(eventRequests(background, STORED_BACKGROUND_EVENTS, 0, shape), durationMs);
    running = false;
    const probeLatencies = await probes;
    done += accepted(load) + probeLatencies.length;
    const after = await host.waitForEvents(done, 120_000);
    result.freshness = {
      rate,
      probes: summarise(probeLatencies),
      loadErrors: load.errors,
      processor: workerDelta(before, after),
    };

    // 2. New events only (the service assigns their ids); /stats polled for the site's count meanwhile.
    const acceptedAt: number[] = [];
    const shown: { at: number; views: number }[] = [];
    const poller = (async () => {
      for (; polling; await sleep(POLL_INTERVAL_MS))
        shown.push({ at: performance.now(), views: await totalViews(reporting, fresh) });
    })();
    poller.catch(() => undefined);
    const newBefore = await host.call('figures');
    await atRate(
      eventRequests(fresh, 64),
      newEventsMs,
      (status, at) => status === 202 && acceptedAt.push(at),
    );
    const newAfter = await host.waitForEvents(done + acceptedAt.length, 300_000);
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && (shown.at(-1)?.views ?? 0) < acceptedAt.length) await sleep(50);
    polling = false;
    await poller;

    const fifo: number[] = [];
    let s = 0;
    acceptedAt
      .sort((a, b) => a - b)
      .forEach((at, i) => {
        while (s < shown.length && (shown[s]!.views < i + 1 || shown[s]!.at < at)) s++;
        if (s < shown.length) fifo.push(shown[s]!.at - at);
      });
    result.freshness.newEvents = {
      events: acceptedAt.length,
      fifo: summarise(fifo),
      neverSeen: acceptedAt.length - fifo.length,
      processor: workerDelta(newBefore, newAfter),
    };
  } finally {
    running = false;
    polling = false;
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
