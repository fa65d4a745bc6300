import { Cleanup, freshDatabase, measureClosedLoop, startBenchScript, type BenchContext } from '../context';
import { eventRequests, type BenchSite } from '../fixtures';
import { sendAll } from '../load/http-load';
import type { HttpFigures, RunResult } from '../results';
import { WorkerHostClient, workerDelta } from '../support/worker-host';

const NAIVE_SITE: BenchSite = { siteId: 'naive-site', writeKey: 'wk_naive', readKey: 'rk_naive' };

function requireAccepted(statuses: number[], what: string): void {
  const bad = statuses.filter((status) => status !== 202);
  if (bad.length > 0)
    throw new Error(`${what}: ${bad.length} request(s) not answered 202 (first: ${bad[0]})`);
}

/** The naive server without its enqueue, in its own process, stopped before the worker's stage. */
async function frameworkOnly(ctx: BenchContext): Promise<HttpFigures> {
  const cleanup = new Cleanup();
  try {
    const server = await startBenchScript(ctx, cleanup, 'naive-http-no-enqueue', 'peers/naive-server.js', {
      REDIS_URL: ctx.redisUrl,
      NAIVE_ENQUEUE: 'off',
    });
    return await measureClosedLoop(ctx, server, eventRequests(server.target, NAIVE_SITE, 64));
  } finally {
    await cleanup.run();
  }
}

/**
 * The naive peer: its HTTP server at full load (closed loop, no worker running, like the project's
 * ingestion stage), then its worker draining a backlog it did not see coming (paused while filled).
 */
export async function runNaive(ctx: BenchContext, result: RunResult): Promise<void> {
  const { settings } = ctx;
  result.naive = {};
  const cleanup = new Cleanup();
  try {
    const server = await startBenchScript(ctx, cleanup, 'naive-http', 'peers/naive-server.js', {
      REDIS_URL: ctx.redisUrl,
    });
    const requests = eventRequests(server.target, NAIVE_SITE, 64);
    result.naive.http = await measureClosedLoop(ctx, server, requests);
    await ctx.redis.flushall();

    result.naive.httpNoEnqueue = await frameworkOnly(ctx);

    const worker = await startBenchScript(ctx, cleanup, 'naive-worker', 'peers/naive-worker.js', {
      REDIS_URL: ctx.redisUrl,
      MONGODB_URI: freshDatabase(ctx, 'naive'),
    });
    const host = new WorkerHostClient(worker.child);
    const { warmupEvents, events } = settings.naiveWorker;
    const warmup = await sendAll(server.target, eventRequests(server.target, NAIVE_SITE, warmupEvents), 16);
    requireAccepted(
      warmup.map((r) => r.status),
      'naive warm-up',
    );
    await host.waitForEvents(warmupEvents, 60_000);
    await host.call('pause');
    const load = await sendAll(
      server.target,
      eventRequests(server.target, NAIVE_SITE, events, warmupEvents),
      16,
    );
    requireAccepted(
      load.map((r) => r.status),
      'naive backlog',
    );
    const before = await host.figures();
    await host.call('resume');
    const after = await host.waitForEvents(warmupEvents + events, 120_000);
    result.naive.worker = workerDelta(before, after);
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
