import { Cleanup, measureHttp, startPeer, type BenchContext } from '../context';
import { eventRequests, type BenchSite } from '../fixtures';
import type { RunResult } from '../results';

/** The ceilings check no site; a placeholder gives every server the same request bytes. */
export const ANY_SITE: BenchSite = { siteId: 'bench-site', writeKey: 'wk_bench', readKey: 'rk_bench' };

/**
 * A bare node:http server (peers/bare-server.ts): parse and 202, then parse, `await queue.add` and 202,
 * in a closed loop; the enqueue ceiling also at half its maximum rate (autocannon's overallRate).
 */
export async function runLimits(ctx: BenchContext, result: RunResult): Promise<void> {
  const limits: NonNullable<RunResult['limits']> = (result.limits = {});
  const requests = eventRequests(ANY_SITE, 64);
  for (const mode of ['parse', 'enqueue'] as const) {
    const cleanup = new Cleanup();
    try {
      const env = {
        BARE_MODE: mode,
        REDIS_URL: ctx.redisUrl,
        QUEUE_NAME: 'bench-bare',
        REDIS_PREFIX: 'bench',
      };
      const server = await startPeer(ctx, cleanup, `bare-${mode}`, 'bare-server', env);
      const closed = await measureHttp(ctx, server, { requests });
      if (mode === 'parse') {
        limits.bare = closed;
        continue;
      }
      limits.bareEnqueue = closed;
      await ctx.redis.flushall();
      limits.bareEnqueueOpen = await measureHttp(ctx, server, {
        requests,
        connections: ctx.settings.openLoopConnections,
        overallRate: Math.max(10, Math.round(closed.rate / 2)),
      });
    } finally {
      await cleanup.run();
      await ctx.redis.flushall();
    }
  }
}
