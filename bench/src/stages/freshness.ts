import { setTimeout as sleep } from 'node:timers/promises';
import { insertTestSite } from '@analytics/testkit';
import { waitForEmptyQueue, workerDelta, workerSnapshot } from '../backlog';
import {
  type Cleanup,
  freshDatabase,
  startProcessor,
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
import { getJson, runLoad, send, sendAccepted, summarise, type RequestSpec } from '../load';
import type { RunResult } from '../results';

const POLL_INTERVAL_MS = 10;
/** Background events stored before the measurement, then re-delivered at the chosen rate. */
const STORED_BACKGROUND_EVENTS = 200;

async function totalViews(reporting: Started, site: BenchSite): Promise<number> {
  const { path, headers } = statsRequest(site);
  return (await getJson<{ total_views: number }>(reporting.port, path, headers)).total_views;
}

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
export async function runFreshness(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { rate, durationMs, newEventsMs } = ctx.settings.freshness;
  let [probing, polling] = [true, true];
  const { uri, mongo, queue } = await freshDatabase(ctx, cleanup, 'freshness');
  const [background, fresh, probeSite] = [
    await insertTestSite(mongo),
    await insertTestSite(mongo),
    await insertTestSite(mongo),
  ];
  const [ingestion, worker, reporting] = await Promise.all([
    startService(ctx, cleanup, 'ingestion_service', uri),
    startProcessor(ctx, cleanup, uri),
    startService(ctx, cleanup, 'reporting_service', uri),
    startService(ctx, cleanup, 'cron_service', uri),
  ]);
  cleanup.add('probes and /stats polling', () => ([probing, polling] = [false, false]));
  const atRate = (requests: RequestSpec[], ms: number, onResponse?: (status: number, at: number) => void) =>
    runLoad({
      port: ingestion.port,
      requests,
      connections: 16,
      durationMs: ms,
      overallRate: rate,
      onResponse,
    });

  // 1. Store the background events once (this warms the pipeline up too), then re-deliver them.
  const shape = { paths: 20, users: 50, idPrefix: 'bg' };
  const stored = batchRequests(background, STORED_BACKGROUND_EVENTS / 100, 100, 0, shape);
  await sendAccepted(ingestion.port, stored, 2, 'background events');
  await waitForEmptyQueue(queue);
  const before = workerSnapshot(worker);
  const probes = runProbes(ingestion, reporting, probeSite, () => probing);
  probes.catch(() => undefined); // awaited below; a failure must not crash the run meanwhile
  const load = await atRate(eventRequests(background, STORED_BACKGROUND_EVENTS, 0, shape), durationMs);
  probing = false;
  const probeLatencies = await probes;
  await waitForEmptyQueue(queue);
  const events = (load.statuses['202'] ?? 0) + probeLatencies.length;
  const processor = workerDelta(events, before, workerSnapshot(worker));
  result.freshness = { rate, probes: summarise(probeLatencies), processor };

  // 2. New events only (the service assigns their ids); /stats polled for the site's count meanwhile.
  const acceptedAt: number[] = [];
  const shown: { at: number; views: number }[] = [];
  const poller = (async () => {
    for (; polling; await sleep(POLL_INTERVAL_MS))
      shown.push({ at: performance.now(), views: await totalViews(reporting, fresh) });
  })();
  poller.catch(() => undefined);
  const newBefore = workerSnapshot(worker);
  await atRate(eventRequests(fresh, 64), newEventsMs, (status, at) => status === 202 && acceptedAt.push(at));
  await waitForEmptyQueue(queue);
  const newProcessor = workerDelta(acceptedAt.length, newBefore, workerSnapshot(worker));
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline && (shown.at(-1)?.views ?? 0) < acceptedAt.length) await sleep(50);
  polling = false;
  await poller;
  // Event i (in order of its 202) counts as seen at the first poll after its 202 that shows i + 1 views.
  const fifo: number[] = [];
  let s = 0;
  acceptedAt
    .sort((a, b) => a - b)
    .forEach((at, i) => {
      while (s < shown.length && (shown[s]!.views < i + 1 || shown[s]!.at < at)) s++;
      if (s < shown.length) fifo.push(shown[s]!.at - at);
    });
  const neverSeen = acceptedAt.length - fifo.length;
  result.freshness.newEvents = {
    events: acceptedAt.length,
    fifo: summarise(fifo),
    neverSeen,
    processor: newProcessor,
  };
}
