import { Queue } from 'bullmq';
import { drainBacklog, MongoCommandProxy, waitForEmptyQueue } from '../backlog';
import { type Cleanup, databaseUri, measureHttp, startPeer, type BenchContext } from '../context';
import { eventRequests, NAIVE_QUEUE, type BenchSite } from '../fixtures';
import { sendAccepted } from '../load';
import type { RunResult } from '../results';

const NAIVE_SITE: BenchSite = { siteId: 'naive-site', writeKey: 'wk_naive', readKey: 'rk_naive' };

/**
 * The naive peer (peers/naive-*.ts): its HTTP server at full load (closed loop, no worker running, like
 * the project's ingestion stage), the same server without its `queue.add`, then its worker draining a
 * backlog it did not see coming (the queue paused while it was filled).
 */
export async function runNaive(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const naive: NonNullable<RunResult['naive']> = (result.naive = {});
  const requests = eventRequests(NAIVE_SITE, 64);
  const server = await startPeer(ctx, cleanup, 'naive-http', 'naive-server', { REDIS_URL: ctx.redisUrl });
  naive.http = await measureHttp(ctx, server, { requests });
  await ctx.redis.flushall();

  const env = { REDIS_URL: ctx.redisUrl, NAIVE_ENQUEUE: 'off' };
  const frameworkOnly = await startPeer(ctx, cleanup, 'naive-http-no-enqueue', 'naive-server', env);
  naive.httpNoEnqueue = await measureHttp(ctx, frameworkOnly, { requests });
  await frameworkOnly.child.stop(); // before the worker's stage

  const proxy = new MongoCommandProxy(databaseUri(ctx, 'naive'));
  cleanup.add('mongodb proxy', () => proxy.stop());
  const workerEnv = { REDIS_URL: ctx.redisUrl, MONGODB_URI: await proxy.start() };
  const worker = await startPeer(ctx, cleanup, 'naive-worker', 'naive-worker', workerEnv);
  const queue = new Queue(NAIVE_QUEUE, { connection: ctx.redis });
  cleanup.add('naive queue', () => queue.close());
  const { warmupEvents, events } = ctx.settings.naiveWorker;
  await sendAccepted(server.port, eventRequests(NAIVE_SITE, warmupEvents), 16, 'naive warm-up');
  await waitForEmptyQueue(queue);
  naive.worker = await drainBacklog(queue, { pid: worker.child.pid, proxy }, events, () =>
    sendAccepted(server.port, eventRequests(NAIVE_SITE, events, warmupEvents), 16, 'naive backlog'),
  );
}
