import { insertTestSite } from '@analytics/common/testing';
import {
  benchMongo,
  Cleanup,
  freshDatabase,
  startProcessorHost,
  startService,
  type BenchContext,
} from '../context';
import { batchRequest, batchRequests, DEFAULT_SHAPE, eventRequests, pageView } from '../fixtures';
import { sendAccepted, type RequestSpec } from '../load';
import type { RunResult } from '../results';
import { WorkerHost, workerDelta, type WorkerDelta } from '../worker-host';

/**
 * The project's processor (peers/processor-host.ts, which counts), fed through the real ingestion: the
 * worker is paused, the queue filled, the worker resumed, and its figures taken when the last event is
 * done: CPU of the process per event (the database runs in its own process), MongoDB round trips per
 * 1,000 events, the database time the driver measured. Events carry ids so they can be sent again: a
 * re-delivered event goes through every step and round trip again, but the test engine stores nothing new.
 */
export async function runProcessor(ctx: BenchContext, result: RunResult): Promise<void> {
  const { warmupEvents, singles, newBatches, resentBatches } = ctx.settings.processor;
  const size = ctx.settings.batchSize;
  const processor: NonNullable<RunResult['processor']> = (result.processor = {});
  const cleanup = new Cleanup();
  try {
    const mongoUri = freshDatabase(ctx, 'processor');
    const site = await insertTestSite(await benchMongo(cleanup, mongoUri));
    const [ingestion, started] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', mongoUri),
      startProcessorHost(ctx, cleanup, mongoUri),
    ]);
    const host = new WorkerHost(started.child);
    const shape = { ...DEFAULT_SHAPE, idPrefix: 'ev' };
    const send = (requests: RequestSpec[], what: string) => sendAccepted(ingestion.port, requests, 16, what);
    let done = 0;
    const drain = async (events: number, requests: RequestSpec[], what: string): Promise<WorkerDelta> => {
      await host.call('pause');
      await send(requests, what);
      const before = await host.call('resume');
      done += events;
      return workerDelta(before, await host.waitForEvents(done, 600_000));
    };

    // Warm-up: new single events and one new batch, then the same events twice more.
    for (let round = 0; round < 3; round++) {
      await send(eventRequests(site, warmupEvents, 0, shape), 'warm-up events');
      await send(batchRequests(site, 1, size, warmupEvents, shape), 'warm-up batch');
      done += warmupEvents + size;
      await host.waitForEvents(done, 120_000);
    }
    let stored = warmupEvents + size;
    processor.batches = await drain(
      newBatches * size,
      batchRequests(site, newBatches, size, stored, shape),
      'new batches',
    );
    stored += newBatches * size;
    processor.singles = await drain(singles, eventRequests(site, singles, stored, shape), 'single events');
    stored += singles;
    // Re-deliveries: 100-event jobs cycling over every stored event.
    const resent = Array.from({ length: resentBatches }, (_, j) =>
      batchRequest(
        site,
        Array.from({ length: size }, (_, i) => pageView(site.siteId, (j * size + i) % stored, shape)),
      ),
    );
    processor.resent = await drain(resentBatches * size, resent, 're-sent batches');
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
