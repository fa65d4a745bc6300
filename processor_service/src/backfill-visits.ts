/**
 * Counts in the visit parts, once, the retained events stored before visit parts existed:
 *
 *   npm run backfill:visits            (reads the processor's .env like `npm start`)
 *
 * Safe to stop and run again at any point (a stopped run's events are settled by the next one); run one
 * at a time, after the processors have drained what they held when they were upgraded.
 */
import { randomBytes } from 'node:crypto';
import {
  backfillWriterId,
  closeMongo,
  connectMongo,
  getRawEventModel,
  logger,
  MONGO_OPERATION_TIMEOUT_MS,
} from '@analytics/common';
import { loadConfig } from './config';
import { createEventStore } from './services/event-store.service';

const PAGE_EVENTS = 500;

async function main(): Promise<void> {
  const config = loadConfig();
  const mongo = await connectMongo(config.mongodbUri, { appName: 'visit-backfill' });
  try {
    const remaining = await getRawEventModel(mongo)
      .countDocuments({ in_visits: { $ne: true } })
      .maxTimeMS(MONGO_OPERATION_TIMEOUT_MS * 12);
    logger.info('visit backfill starting', { events: remaining });
    const store = createEventStore(mongo, {
      adoptAfterMs: config.worker.adoptAfterMs,
      writer: backfillWriterId(randomBytes(6).toString('hex')),
    });
    let done = 0;
    for (;;) {
      const counted = await store.backfillVisits(PAGE_EVENTS);
      if (counted === 0) break;
      done += counted;
      logger.info('visit backfill progress', { counted: done, of: remaining });
    }
    logger.info('visit backfill finished', { counted: done });
  } finally {
    await closeMongo(mongo);
  }
}

main().catch((error: unknown) => {
  logger.error('visit backfill failed; run it again to resume where it stopped', {
    error: error instanceof Error ? error.message : String(error),
  });
  process.exitCode = 1;
});
