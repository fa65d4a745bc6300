import { setTimeout as sleep } from 'node:timers/promises';
import {
  ADMIN_API_KEY,
  benchMongo,
  Cleanup,
  freshDatabase,
  ingestionEnv,
  newSite,
  serviceEnv,
  startProcessorHost,
  startService,
  type BenchContext,
  type Started,
} from '../context';
import {
  batchRequests,
  eventRequest,
  pageView,
  statsRequest,
  type BenchSite,
  type EventShape,
} from '../fixtures';
import { Connection, openLoop, sendAll, type Target } from '../load/http-load';
import { SampleList, summarise } from '../load/percentiles';
import type { FreshnessFigures, RunResult } from '../results';
import { WorkerHostClient, workerDelta } from '../support/worker-host';

const POLL_INTERVAL_MS = 10;
/** Background events stored before the measurement, then re-delivered at the chosen rate. */
const STORED_BACKGROUND_EVENTS = 200;

/** Reads total_views of a site over one keep-alive connection. */
class ViewsReader {
  private readonly connection: Connection;
  private readonly request: Buffer;

  constructor(reporting: Started, site: BenchSite) {
    this.connection = new Connection(reporting.target, true);
    this.request = statsRequest(reporting.target, site);
  }

  async read(): Promise<number> {
    const response = await this.connection.request(this.request);
    if (response.status !== 200 || !response.body) throw new Error(`GET /stats answered ${response.status}`);
    return (JSON.parse(response.body.toString('utf8')) as { total_views: number }).total_views;
  }

  close(): void {
    this.connection.close();
  }
}

/** Sends probes (new events) one at a time until `running()` is false; each timed from 202 to visible. */
async function runProbes(
  ingestion: Target,
  site: BenchSite,
  views: ViewsReader,
  running: () => boolean,
): Promise<SampleList> {
  const latencies = new SampleList();
  const connection = new Connection(ingestion);
  const first = await views.read();
  try {
    for (let k = 1; running(); k++) {
      const response = await connection.request(eventRequest(ingestion, site, pageView(site.siteId, k)));
      const acceptedAt = performance.now();
      if (response.status !== 202) throw new Error(`probe answered ${response.status}`);
      const deadline = acceptedAt + 60_000;
      while ((await views.read()) < first + k) {
        if (performance.now() > deadline) throw new Error(`probe ${k} not visible after 60 s`);
        await sleep(POLL_INTERVAL_MS);
      }
      latencies.push(performance.now() - acceptedAt);
    }
  } finally {
    connection.close();
  }
  return latencies;
}

/**
 * Freshness through the whole system (ingestion → Redis → processor → MongoDB → reporting) at about
 * 200 events/s. Probes, new events sent one at a time, are timed from their 202 until /stats counts them.
 *
 * 1. Background load: re-deliveries of stored events at the rate. Each goes through every step and every
 *    round trip of the processor, but the test engine does not have to insert it: on this engine an
 *    insert costs time proportional to the collection, so 200 new documents a second outrun it within a
 *    second or two (a real MongoDB inserts thousands a second). This is the freshness the design gives.
 * 2. New events only, at the same rate, for a short while: how the test engine sets the pace. Timed from
 *    each 202 until /stats counts as many events as had been accepted up to it (exact when processing is
 *    first-in first-out, which the queue and the group commit are, give or take one write).
 */
export async function runFreshness(ctx: BenchContext, result: RunResult): Promise<void> {
  const { settings } = ctx;
  const { rate } = settings.freshness;
  const cleanup = new Cleanup();
  const readers: ViewsReader[] = [];
  const tasks: Promise<unknown>[] = [];
  let running = true;
  let polling = true;
  const track = <T>(task: Promise<T>): Promise<T> => {
    tasks.push(task);
    // Awaited later; marked handled now so a failure while the load still runs does not crash the run.
    task.catch(() => undefined);
    return task;
  };
  try {
    const mongoUri = freshDatabase(ctx, 'freshness');
    const mongo = await benchMongo(cleanup, mongoUri);
    const background = await newSite(mongo);
    const fresh = await newSite(mongo);
    const probeSite = await newSite(mongo);
    const env = serviceEnv(ctx, mongoUri);
    const [ingestion, processor, reporting] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', ingestionEnv(ctx, mongoUri)),
      startProcessorHost(ctx, cleanup, mongoUri),
      startService(ctx, cleanup, 'reporting_service', { ...env, ADMIN_API_KEY }),
      startService(ctx, cleanup, 'cron_service', env),
    ]);
    const host = new WorkerHostClient(processor.child);
    const reader = (site: BenchSite): ViewsReader => {
      const r = new ViewsReader(reporting, site);
      readers.push(r);
      return r;
    };

    // Store the background events once (two batches; this warms the pipeline up too).
    const shape: EventShape = { paths: 20, users: 50, idPrefix: 'bg' };
    const stored = await sendAll(
      ingestion.target,
      batchRequests(ingestion.target, background, STORED_BACKGROUND_EVENTS / 100, 100, 0, shape),
      2,
    );
    if (stored.some((r) => r.status !== 202)) throw new Error('background events were not all accepted');
    let done = (await host.waitForEvents(STORED_BACKGROUND_EVENTS, 60_000)).events;

    // 1. Re-delivered background at the rate, probes meanwhile.
    const redeliveries = Array.from({ length: STORED_BACKGROUND_EVENTS }, (_, i) =>
      eventRequest(ingestion.target, background, pageView(background.siteId, i, shape)),
    );
    const before = await host.figures();
    running = true;
    const probes = track(runProbes(ingestion.target, probeSite, reader(probeSite), () => running));
    const started = performance.now();
    const load = await openLoop({
      target: ingestion.target,
      requests: redeliveries,
      ratePerSecond: rate,
      maxConnections: 16,
      warmupMs: 0,
      durationMs: settings.freshness.durationMs,
    });
    const seconds = (performance.now() - started) / 1000;
    running = false;
    const probeLatencies = await probes;
    done += load.statuses['202'] ?? 0;
    const after = await host.waitForEvents(done + probeLatencies.length, 120_000);
    done = after.events;
    const figures: FreshnessFigures = {
      rate,
      seconds,
      probes: summarise(probeLatencies.values()),
      loadErrors: load.errors,
      processor: workerDelta(before, after),
    };
    result.freshness = figures;

    // 2. New events only at the same rate; /stats polled for the site's count.
    const count = Math.round((rate * settings.freshness.newEventsMs) / 1000);
    const newEvents = Array.from({ length: count }, (_, i) =>
      eventRequest(
        ingestion.target,
        fresh,
        pageView(fresh.siteId, i, { paths: 20, users: 50, idPrefix: 'new' }),
      ),
    );
    const freshViews = reader(fresh);
    const accepted: number[] = [];
    const shown: { at: number; views: number }[] = [];
    const poller = track(
      (async () => {
        while (polling) {
          const views = await freshViews.read();
          shown.push({ at: performance.now(), views });
          await sleep(POLL_INTERVAL_MS);
        }
      })(),
    );
    const newBefore = await host.figures();
    const newStarted = performance.now();
    const newLoad = await openLoop({
      target: ingestion.target,
      requests: newEvents,
      ratePerSecond: rate,
      maxConnections: 16,
      warmupMs: 0,
      durationMs: settings.freshness.newEventsMs,
      onResponse: (status, _sentAt, answeredAt) => {
        if (status === 202) accepted.push(answeredAt);
      },
    });
    const newSeconds = (performance.now() - newStarted) / 1000;
    const newAfter = await host.waitForEvents(done + accepted.length, 300_000);
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline && (shown.at(-1)?.views ?? 0) < accepted.length) await sleep(50);
    polling = false;
    await poller;

    accepted.sort((a, b) => a - b);
    const fifo = new SampleList();
    let neverSeen = 0;
    let s = 0;
    accepted.forEach((acceptedAt, i) => {
      while (s < shown.length && (shown[s]!.views < i + 1 || shown[s]!.at < acceptedAt)) s++;
      if (s < shown.length) fifo.push(shown[s]!.at - acceptedAt);
      else neverSeen += 1;
    });
    figures.newEvents = {
      rate,
      events: accepted.length,
      seconds: newSeconds,
      fifo: summarise(fifo.values()),
      neverSeen,
      loadErrors: newLoad.errors,
      processor: workerDelta(newBefore, newAfter),
    };
  } finally {
    running = false;
    polling = false;
    await Promise.allSettled(tasks);
    for (const r of readers) r.close();
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
