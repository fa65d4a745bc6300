import { Cleanup, measureClosedLoop, measureHttp, startBenchScript, type BenchContext } from '../context';
import { eventRequests, type BenchSite } from '../fixtures';
import { openLoop } from '../load/http-load';
import type { HttpFigures, RunResult } from '../results';

/** Sites are not checked by the ceilings; a placeholder gives every server the same request bytes. */
const ANY_SITE: BenchSite = { siteId: 'bench-site', writeKey: 'wk_bench', readKey: 'rk_bench' };

/** Closed loop; for the enqueue ceiling also an open loop at half its maximum (the p99 it can reach). */
async function bare(
  ctx: BenchContext,
  mode: 'parse' | 'enqueue',
): Promise<{ closed: HttpFigures; open?: HttpFigures }> {
  const cleanup = new Cleanup();
  try {
    const server = await startBenchScript(ctx, cleanup, `bare-${mode}`, 'peers/bare-server.js', {
      BARE_MODE: mode,
      REDIS_URL: ctx.redisUrl,
      QUEUE_NAME: 'bench-bare',
      REDIS_PREFIX: 'bench',
    });
    const requests = eventRequests(server.target, ANY_SITE, 64);
    const { settings } = ctx;
    const closed = await measureClosedLoop(ctx, server, requests);
    if (mode === 'parse') return { closed };
    await ctx.redis.flushall();
    const halfRate = Math.max(10, Math.round(closed.rate / 2));
    const open = await measureHttp(ctx, server.child.pid, settings.openLoopConnections, (hooks) =>
      openLoop({
        ...hooks,
        target: server.target,
        requests,
        ratePerSecond: halfRate,
        maxConnections: settings.openLoopConnections,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
      }),
    );
    return { closed, open: { ...open, targetRate: halfRate } };
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}

/** A bare node:http server: parse and 202, then parse, `await queue.add` and 202. */
export async function runLimits(ctx: BenchContext, result: RunResult): Promise<void> {
  result.limits = {};
  result.limits.bare = (await bare(ctx, 'parse')).closed;
  const enqueue = await bare(ctx, 'enqueue');
  result.limits.bareEnqueue = enqueue.closed;
  result.limits.bareEnqueueOpen = enqueue.open;
}
