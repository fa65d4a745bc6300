import { measureHttp, startPeer, type BenchContext, type Cleanup } from '../context';
import { eventRequests, type BenchSite } from '../fixtures';
import type { RunResult } from '../results';

/** The ceilings check no site; a placeholder gives every server the same request bytes. */
export const ANY_SITE: BenchSite = { siteId: 'bench-site', writeKey: 'wk_bench', readKey: 'rk_bench' };

/**
 * A bare node:http server (peers/bare-server.ts): parse and 202, then parse, `await queue.add` and 202,
 * in a closed loop; the enqueue ceiling also at half its maximum rate (paced open loop, runPacedLoad).
 */
export async function runLimits(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const requests = eventRequests(ANY_SITE, 64);
  const env = { REDIS_URL: ctx.redisUrl, QUEUE_NAME: 'bench-bare', REDIS_PREFIX: 'bench' };
  const bare = await startPeer(ctx, cleanup, 'bare-parse', 'bare-server', { ...env, BARE_MODE: 'parse' });
  result.limits = { bare: await measureHttp(ctx, bare, { requests }) };
  await bare.child.stop();

  const enqueue = await startPeer(ctx, cleanup, 'bare-enqueue', 'bare-server', {
    ...env,
    BARE_MODE: 'enqueue',
  });
  const closed = (result.limits.bareEnqueue = await measureHttp(ctx, enqueue, { requests }));
  await ctx.redis.flushall();
  result.limits.bareEnqueueOpen = await measureHttp(ctx, enqueue, {
    requests,
    connections: ctx.settings.openLoopConnections,
    pacedRate: Math.max(10, Math.round(closed.rate / 2)),
  });
}
