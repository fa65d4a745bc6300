import {
  benchMongo,
  Cleanup,
  freshDatabase,
  ingestionEnv,
  measureClosedLoop,
  measureHttp,
  newSite,
  startService,
  type BenchContext,
} from '../context';
import { batchRequests, eventRequests } from '../fixtures';
import { openLoop } from '../load/http-load';
import type { RunResult } from '../results';

/**
 * The project's ingestion alone (no processor: the jobs pile up in Redis and are flushed after each load,
 * as for the ceilings and the naive peer): POST /event closed loop for the maximum, open loop at half of
 * it for an honest p99, POST /events with 100-event batches.
 */
export async function runIngestion(ctx: BenchContext, result: RunResult): Promise<void> {
  const { settings } = ctx;
  result.ingestion = {};
  const cleanup = new Cleanup();
  try {
    const mongoUri = freshDatabase(ctx, 'ingestion');
    const mongo = await benchMongo(cleanup, mongoUri);
    const site = await newSite(mongo);
    const ingestion = await startService(ctx, cleanup, 'ingestion_service', ingestionEnv(ctx, mongoUri));
    const pid = ingestion.child.pid;
    const singles = eventRequests(ingestion.target, site, 64);

    const event = await measureClosedLoop(ctx, ingestion, singles, { health: ingestion.target });
    result.ingestion.event = event;
    await ctx.redis.flushall();

    const halfRate = Math.max(10, Math.round(event.rate / 2));
    const eventOpen = await measureHttp(
      ctx,
      pid,
      settings.openLoopConnections,
      (hooks) =>
        openLoop({
          ...hooks,
          target: ingestion.target,
          requests: singles,
          ratePerSecond: halfRate,
          maxConnections: settings.openLoopConnections,
          warmupMs: settings.warmupMs,
          durationMs: settings.durationMs,
        }),
      1,
      ingestion.target,
    );
    result.ingestion.eventOpen = { ...eventOpen, targetRate: halfRate };
    await ctx.redis.flushall();

    const batches = batchRequests(ingestion.target, site, 8, settings.batchSize);
    result.ingestion.events = await measureClosedLoop(ctx, ingestion, batches, {
      connections: settings.batchConnections,
      eventsPerRequest: settings.batchSize,
      health: ingestion.target,
    });
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
