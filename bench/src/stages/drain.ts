import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import { getRawEventModel, getRollupModel } from '@analytics/common';
import { insertTestSite } from '@analytics/common/testing';
import {
  benchMongo,
  Cleanup,
  freshDatabase,
  QUEUE_NAME,
  REDIS_PREFIX,
  startService,
  type BenchContext,
} from '../context';
import { batchRequests, DEFAULT_SHAPE, pageView, type BenchSite } from '../fixtures';
import { send } from '../load';
import { cpuSeconds } from '../processes';
import type { RunResult } from '../results';

const DRAIN_TIMEOUT_MS = 600_000;

/** Waits until no job is waiting, active or delayed (no job may fail); logs progress every 2 s. */
async function waitForEmptyQueue(queue: Queue, started: number): Promise<void> {
  let lastLog = Date.now();
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    if (counts.failed) throw new Error(`${counts.failed} job(s) failed`);
    const left =
      (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
    if (left === 0) return;
    if (Date.now() - started > DRAIN_TIMEOUT_MS)
      throw new Error(`${left} job(s) left after ${DRAIN_TIMEOUT_MS} ms`);
    if (Date.now() - lastLog >= 2000) {
      lastLog = Date.now();
      process.stderr.write(
        `  drain: ${left} job(s) left after ${((lastLog - started) / 1000).toFixed(0)} s\n`,
      );
    }
    await sleep(20);
  }
}

/**
 * What the rollups hold against what was sent: page views per path, summed over the hourly and over the
 * daily rollups, and the set of users of each period. Returns the number of differences (0 when exact).
 */
async function rollupMismatches(
  mongo: mongoose.Connection,
  site: BenchSite,
  events: number,
): Promise<number> {
  const expectedViews = new Map<string, number>();
  const expectedUsers = new Set<string>();
  for (let i = 0; i < events; i++) {
    const { path, user_id } = pageView(site.siteId, i) as { path: string; user_id: string };
    const page = path.split('?')[0]!;
    expectedViews.set(page, (expectedViews.get(page) ?? 0) + 1);
    expectedUsers.add(user_id);
  }
  let mismatches = 0;
  for (const period of ['H', 'D'] as const) {
    const rollups = await getRollupModel(mongo).find({ site_id: site.siteId, period }).lean();
    const views = new Map<string, number>();
    const users = new Set<string>();
    for (const r of rollups) {
      if (r.kind === 'views' && r.path !== undefined)
        views.set(r.path, (views.get(r.path) ?? 0) + (r.views ?? 0));
      if (r.kind === 'users' && r.user_id !== undefined) users.add(r.user_id);
    }
    for (const page of new Set([...expectedViews.keys(), ...views.keys()]))
      if (views.get(page) !== expectedViews.get(page)) mismatches += 1;
    for (const user of new Set([...expectedUsers, ...users]))
      if (users.has(user) !== expectedUsers.has(user)) mismatches += 1;
  }
  return mismatches;
}

/**
 * Issue 12's figure: 1,600 events sent at once (16 `POST /events` of 100) to the real ingestion and
 * processor (`<service>/dist/index.js`, started and ready before), on a fresh database of the test
 * engine. Timed from the last 202 until the queue holds no waiting, active or delayed job; then every
 * raw event must be stored once and the rollups must match what was sent exactly.
 */
export async function runDrain(ctx: BenchContext, result: RunResult): Promise<void> {
  const { batchSize } = ctx.settings;
  const events = ctx.settings.drain.batches * batchSize;
  const cleanup = new Cleanup();
  try {
    const mongoUri = freshDatabase(ctx, 'drain');
    const mongo = await benchMongo(cleanup, mongoUri);
    const site = await insertTestSite(mongo);
    const [ingestion, processor] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', mongoUri),
      startService(ctx, cleanup, 'processor_service', mongoUri),
    ]);
    const queue = new Queue(QUEUE_NAME, { connection: ctx.redis, prefix: REDIS_PREFIX });
    cleanup.add('queue', () => queue.close());

    const requests = batchRequests(site, ctx.settings.drain.batches, batchSize, 0, DEFAULT_SHAPE);
    const processorCpu = cpuSeconds(processor.child.pid);
    const engineCpu = ctx.mongoPid === undefined ? 0 : cpuSeconds(ctx.mongoPid);
    const sent = performance.now();
    let lastAccepted = sent;
    const statuses = await Promise.all(
      requests.map(async (request) => {
        const { status } = await send(ingestion.port, request);
        if (status === 202) lastAccepted = Math.max(lastAccepted, performance.now());
        return status;
      }),
    );
    if (statuses.some((status) => status !== 202))
      throw new Error(`POST /events answered ${statuses.join(', ')}`);
    await waitForEmptyQueue(queue, Date.now());
    const drained = performance.now();

    const stored = await getRawEventModel(mongo).countDocuments({ site_id: site.siteId });
    result.drain = {
      events,
      sendMs: lastAccepted - sent,
      drainMs: drained - lastAccepted,
      rawEventsStored: stored,
      rollupMismatches: await rollupMismatches(mongo, site, events),
      processorCpuMicrosPerEvent: ((cpuSeconds(processor.child.pid) - processorCpu) * 1e6) / events,
      engineCpuSeconds: ctx.mongoPid === undefined ? 0 : cpuSeconds(ctx.mongoPid) - engineCpu,
    };
    if (stored !== events || result.drain.rollupMismatches > 0)
      throw new Error(
        `${stored} of ${events} raw events stored, ${result.drain.rollupMismatches} rollups differ`,
      );
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
