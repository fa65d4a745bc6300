import {
  benchMongo,
  Cleanup,
  freshDatabase,
  ingestionEnv,
  newSite,
  startProcessorHost,
  startService,
  type BenchContext,
} from '../context';
import {
  batchRequest,
  batchRequests,
  DEFAULT_SHAPE,
  eventRequests,
  pageView,
  type EventShape,
} from '../fixtures';
import { sendAll, type Target } from '../load/http-load';
import type { RunResult } from '../results';
import { WorkerHostClient, workerDelta, type WorkerDelta } from '../support/worker-host';

async function send(target: Target, requests: Buffer[], what: string): Promise<void> {
  const responses = await sendAll(target, requests, 16);
  const bad = responses.filter((r) => r.status !== 202);
  if (bad.length > 0)
    throw new Error(`${what}: ${bad.length} request(s) not answered 202 (first: ${bad[0]!.status})`);
}

/**
 * Fills the queue while the worker is paused, then lets it drain the backlog at full speed: CPU of the
 * processor process per event (the database runs in its own process, so its time is not in it), MongoDB
 * round trips per 1,000 events, and the database time the driver measured.
 */
async function drain(
  host: WorkerHostClient,
  done: number,
  events: number,
  fill: () => Promise<void>,
): Promise<WorkerDelta> {
  await host.call('pause');
  await fill();
  const before = await host.figures();
  await host.call('resume');
  const after = await host.waitForEvents(done + events, 600_000);
  return workerDelta(before, after);
}

/**
 * The project's processor (in a host that counts), fed through the real ingestion. Events carry ids so the
 * warm-up can re-send them: a re-sent event goes through every step (and every round trip) again, but the
 * test engine stores nothing new, so warming up costs little engine time.
 */
export async function runProcessor(ctx: BenchContext, result: RunResult): Promise<void> {
  const { settings } = ctx;
  const { warmupEvents, singles, newBatches, resentBatches } = settings.processor;
  const size = settings.batchSize;
  result.processor = {};
  const cleanup = new Cleanup();
  try {
    const mongoUri = freshDatabase(ctx, 'processor');
    const mongo = await benchMongo(cleanup, mongoUri);
    const site = await newSite(mongo);
    const [ingestion, processor] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', ingestionEnv(ctx, mongoUri)),
      startProcessorHost(ctx, cleanup, mongoUri),
    ]);
    const host = new WorkerHostClient(processor.child);
    const target = ingestion.target;
    const shape: EventShape = { ...DEFAULT_SHAPE, idPrefix: 'ev' };
    let done = 0;
    let nextId = 0;

    // Warm-up: new single events and one new batch, then the same events twice more.
    for (let round = 0; round < 3; round++) {
      await send(target, eventRequests(target, site, warmupEvents, 0, shape), 'warm-up events');
      await send(target, batchRequests(target, site, 1, size, warmupEvents, shape), 'warm-up batch');
      done += warmupEvents + size;
      await host.waitForEvents(done, 120_000);
    }
    nextId = warmupEvents + size;

    const batchesFrom = nextId;
    result.processor.batches = await drain(host, done, newBatches * size, () =>
      send(target, batchRequests(target, site, newBatches, size, batchesFrom, shape), 'new batches'),
    );
    done += newBatches * size;
    nextId += newBatches * size;

    const singlesFrom = nextId;
    result.processor.singles = await drain(host, done, singles, () =>
      send(target, eventRequests(target, site, singles, singlesFrom, shape), 'single events'),
    );
    done += singles;
    nextId += singles;

    // Re-deliveries: 100-event jobs cycling over every stored event.
    const stored = nextId;
    const resent = Array.from({ length: resentBatches }, (_, j) =>
      batchRequest(
        target,
        site,
        Array.from({ length: size }, (_, i) => pageView(site.siteId, (j * size + i) % stored, shape)),
      ),
    );
    result.processor.resent = await drain(host, done, resentBatches * size, () =>
      send(target, resent, 're-sent batches'),
    );
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
