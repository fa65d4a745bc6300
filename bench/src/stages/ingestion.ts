import { insertTestSite } from '@analytics/testkit';
import {
  type Cleanup,
  freshDatabase,
  measureHttp,
  startService,
  type BenchContext,
  type Started,
} from '../context';
import { getJson } from '../load';
import { batchRequests, eventRequests } from '../fixtures';
import { rssBytes } from '../processes';
import type { RunResult } from '../results';

/**
 * The project's ingestion alone (no processor: the jobs pile up in Redis and are flushed after each
 * load, as for the ceilings and the naive peer): POST /event closed loop for the maximum, at half of it
 * paced open loop (runPacedLoad) for the latency under a steady rate, POST /events with 100-event batches.
 */
export async function runIngestion(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { settings } = ctx;
  const ingestion: NonNullable<RunResult['ingestion']> = (result.ingestion = {});
  const db = await freshDatabase(ctx, cleanup, 'ingestion');
  const site = await insertTestSite(db.mongo);
  const server = await startService(ctx, cleanup, 'ingestion_service', db.uri);
  const singles = eventRequests(site, 64);
  const batchesLoad = () =>
    measureHttp(ctx, server, {
      requests: batchRequests(site, 8, settings.batchSize),
      connections: settings.batchConnections,
      eventsPerRequest: settings.batchSize,
      health: true,
    });
  await heapSnapshot(server, 'ready');
  // `BENCH_INGESTION_LOADS=event` or `=events`: that closed-loop load alone (a profile of one route only).
  const only = process.env.BENCH_INGESTION_LOADS;
  if (only === 'events') {
    ingestion.events = await batchesLoad();
    return;
  }
  ingestion.event = await measureHttp(ctx, server, { requests: singles, health: true });
  await heapSnapshot(server, 'after POST /event');
  await ctx.redis.flushall();
  if (only === 'event') return;
  ingestion.eventOpen = await measureHttp(ctx, server, {
    requests: singles,
    connections: settings.openLoopConnections,
    pacedRate: Math.max(10, Math.round(ingestion.event.rate / 2)),
    health: true,
  });
  await ctx.redis.flushall();
  ingestion.events = await batchesLoad();
  await heapSnapshot(server, 'after every load');
}

/**
 * With `BENCH_HEAP_DIR` set, the services write a heap snapshot on SIGUSR2 (context.ts): one is asked
 * for, and the stage waits until the file is complete (the process is blocked while it writes).
 */
async function heapSnapshot(server: Started, when: string): Promise<void> {
  if (!process.env.BENCH_HEAP_DIR) return;
  const rssMb = Math.round(rssBytes(server.child.pid) / 2 ** 20);
  process.kill(server.child.pid, 'SIGUSR2');
  // The main thread writes the snapshot, so /health answers only once it is complete.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await getJson(server.port, '/health');
  console.error(`heap snapshot ${when}: RSS ${rssMb} MB before it`);
}
