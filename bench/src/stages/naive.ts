import { Cleanup, freshDatabase, measureHttp, startPeer, type BenchContext } from '../context';
import { eventRequests, type BenchSite } from '../fixtures';
import { sendAccepted } from '../load';
import type { RunResult } from '../results';
import { WorkerHost, workerDelta } from '../worker-host';

const NAIVE_SITE: BenchSite = { siteId: 'naive-site', writeKey: 'wk_naive', readKey: 'rk_naive' };

/**
 * The naive peer (peers/naive-*.ts): its HTTP server at full load (closed loop, no worker running, like
 * the project's ingestion stage), the same server without its `queue.add`, then its worker draining a
 * backlog it did not see coming (paused while the queue was filled).
 */
export async function runNaive(ctx: BenchContext, result: RunResult): Promise<void> {
  const naive: NonNullable<RunResult['naive']> = (result.naive = {});
  const requests = eventRequests(NAIVE_SITE, 64);
  const cleanup = new Cleanup();
  try {
    const frameworkOnly = new Cleanup();
    try {
      const env = { REDIS_URL: ctx.redisUrl, NAIVE_ENQUEUE: 'off' };
      const server = await startPeer(ctx, frameworkOnly, 'naive-http-no-enqueue', 'naive-server', env);
      naive.httpNoEnqueue = await measureHttp(ctx, server, { requests });
    } finally {
      await frameworkOnly.run();
    }

    const server = await startPeer(ctx, cleanup, 'naive-http', 'naive-server', { REDIS_URL: ctx.redisUrl });
    naive.http = await measureHttp(ctx, server, { requests });
    await ctx.redis.flushall();

    const env = { REDIS_URL: ctx.redisUrl, MONGODB_URI: freshDatabase(ctx, 'naive') };
    const worker = new WorkerHost((await startPeer(ctx, cleanup, 'naive-worker', 'naive-worker', env)).child);
    const { warmupEvents, events } = ctx.settings.naiveWorker;
    await sendAccepted(server.port, eventRequests(NAIVE_SITE, warmupEvents), 16, 'naive warm-up');
    await worker.waitForEvents(warmupEvents, 60_000);
    await worker.call('pause');
    await sendAccepted(server.port, eventRequests(NAIVE_SITE, events, warmupEvents), 16, 'naive backlog');
    const before = await worker.call('resume');
    naive.worker = workerDelta(before, await worker.waitForEvents(warmupEvents + events, 120_000));
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
