import { insertTestSite } from '@analytics/testkit';
import { drainBacklog, waitForEmptyQueue } from '../backlog';
import { type Cleanup, freshDatabase, startProcessor, startService, type BenchContext } from '../context';
import { batchRequest, batchRequests, DEFAULT_SHAPE, eventRequests, pageView } from '../fixtures';
import { sendAccepted, type RequestSpec } from '../load';
import type { RunResult } from '../results';

/**
 * The project's processor fed through the real ingestion, its MongoDB traffic counted by a proxy: the
 * queue is paused, filled and resumed, and the backlog drained at full speed: CPU of the processor per
 * event (the database runs in its own process), round trips per 1,000 events, the database's time.
 * Events carry ids so they can be sent again: a re-delivered event goes through every step and round
 * trip again, but the test engine stores nothing new.
 */
export async function runProcessor(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { warmupEvents, singles, newBatches, resentBatches } = ctx.settings.processor;
  const size = ctx.settings.batchSize;
  const processor: NonNullable<RunResult['processor']> = (result.processor = {});
  const db = await freshDatabase(ctx, cleanup, 'processor');
  const site = await insertTestSite(db.mongo);
  const [ingestion, worker] = await Promise.all([
    startService(ctx, cleanup, 'ingestion_service', db.uri),
    startProcessor(ctx, cleanup, db.uri),
  ]);
  const shape = { ...DEFAULT_SHAPE, idPrefix: 'ev' };
  const send = (requests: RequestSpec[], what: string) => sendAccepted(ingestion.port, requests, 16, what);
  const drain = (events: number, requests: RequestSpec[], what: string) =>
    drainBacklog(db.queue, worker, events, () => send(requests, what));

  // Warm-up, so that what is measured is a processor that has run for a while (its code compiled by the
  // JIT), not its first seconds: new single events and new batches, each round with events of its own.
  let stored = 0;
  for (let round = 0; round < 3; round++) {
    await send(eventRequests(site, warmupEvents, stored, shape), 'warm-up events');
    await send(batchRequests(site, 2, size, stored + warmupEvents, shape), 'warm-up batches');
    await waitForEmptyQueue(db.queue);
    stored += warmupEvents + 2 * size;
  }
  const batches = batchRequests(site, newBatches, size, stored, shape);
  processor.batches = await drain(newBatches * size, batches, 'new batches');
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
}
