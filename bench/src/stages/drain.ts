import type mongoose from 'mongoose';
import { getRawEventModel, getRollupModel } from '@analytics/common';
import { insertTestSite } from '@analytics/testkit';
import { waitForEmptyQueue, workerDelta, workerSnapshot } from '../backlog';
import { type Cleanup, freshDatabase, startProcessor, startService, type BenchContext } from '../context';
import { batchRequests, DEFAULT_SHAPE, pageView, type BenchSite } from '../fixtures';
import { send } from '../load';
import { cpuSeconds } from '../processes';
import type { RunResult } from '../results';

/** Paths and users whose hourly or daily rollups differ from the `events` page views sent (0: exact). */
async function rollupMismatches(
  mongo: mongoose.Connection,
  site: BenchSite,
  events: number,
): Promise<number> {
  const sent = { views: new Map<string, number>(), users: new Set<string>() };
  for (let i = 0; i < events; i++) {
    const { path, user_id } = pageView(site.siteId, i) as { path: string; user_id: string };
    const page = path.split('?')[0]!;
    sent.views.set(page, (sent.views.get(page) ?? 0) + 1);
    sent.users.add(user_id);
  }
  let mismatches = 0;
  for (const period of ['H', 'D'] as const) {
    const views = new Map<string, number>();
    const users = new Set<string>();
    for (const r of await getRollupModel(mongo).find({ site_id: site.siteId, period }).lean()) {
      if (r.kind === 'views') views.set(r.path ?? '', (views.get(r.path ?? '') ?? 0) + (r.views ?? 0));
      else users.add(r.user_id ?? '');
    }
    for (const page of new Set([...sent.views.keys(), ...views.keys()]))
      if (views.get(page) !== sent.views.get(page)) mismatches += 1;
    for (const user of new Set([...sent.users, ...users]))
      if (users.has(user) !== sent.users.has(user)) mismatches += 1;
  }
  return mismatches;
}

/**
 * Issue 12's figure: 1,600 events sent at once (16 `POST /events` of 100) to the real ingestion and
 * processor, started and ready before, on a fresh database of the test engine. Timed from the last 202
 * until no job is waiting, active or delayed; then every raw event must be stored once and the rollups
 * must match what was sent exactly.
 */
export async function runDrain(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { batchSize, drain } = ctx.settings;
  const events = drain.batches * batchSize;
  const db = await freshDatabase(ctx, cleanup, 'drain');
  const site = await insertTestSite(db.mongo);
  const [ingestion, worker] = await Promise.all([
    startService(ctx, cleanup, 'ingestion_service', db.uri),
    startProcessor(ctx, cleanup, db.uri),
  ]);
  const requests = batchRequests(site, drain.batches, batchSize, 0, DEFAULT_SHAPE);
  const engineCpu = (): number => (ctx.mongoPid === undefined ? 0 : cpuSeconds(ctx.mongoPid));
  const [before, engineBefore, sent] = [workerSnapshot(worker), engineCpu(), performance.now()];
  let lastAccepted = sent;
  const statuses = await Promise.all(
    requests.map(async (request) => {
      const { status } = await send(ingestion.port, request);
      lastAccepted = Math.max(lastAccepted, performance.now());
      return status;
    }),
  );
  if (statuses.some((status) => status !== 202))
    throw new Error(`POST /events answered ${statuses.join(', ')}`);
  await waitForEmptyQueue(db.queue);
  const drainMs = performance.now() - lastAccepted;
  const processor = workerDelta(events, before, workerSnapshot(worker));
  const engineCpuSeconds = engineCpu() - engineBefore;
  const rawEventsStored = await getRawEventModel(db.mongo).countDocuments({ site_id: site.siteId });
  const mismatches = await rollupMismatches(db.mongo, site, events);
  const sendMs = lastAccepted - sent;
  result.drain = {
    events,
    sendMs,
    drainMs,
    rawEventsStored,
    rollupMismatches: mismatches,
    processor,
    engineCpuSeconds,
  };
  if (rawEventsStored !== events || mismatches > 0)
    throw new Error(`${rawEventsStored} of ${events} raw events stored, ${mismatches} rollups differ`);
}
