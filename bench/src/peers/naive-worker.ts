import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { NAIVE_QUEUE } from '../fixtures';

/**
 * The naive peer's worker: per job, one `Model.create` of the raw event and one `updateOne` with `$inc`
 * on a daily counter (two round trips per event; a retried job counts twice). Concurrency 50.
 */
interface NaiveEvent {
  site_id: string;
  event_type: string;
  path?: string;
  timestamp?: string;
}

async function main(): Promise<void> {
  // autoCreate off for the test engine (no `create` command).
  const connection = await mongoose
    .createConnection(process.env.MONGODB_URI ?? '', { autoCreate: false })
    .asPromise();
  const Event = connection.model(
    'NaiveEvent',
    new mongoose.Schema(
      {
        site_id: String,
        event_type: String,
        path: String,
        user_id: String,
        timestamp: Date,
        referrer: String,
        props: mongoose.Schema.Types.Mixed,
      },
      { collection: 'naive_events' },
    ),
  );
  const DailyStat = connection.model(
    'NaiveDailyStat',
    new mongoose.Schema(
      { site_id: String, date: String, path: String, views: Number },
      { collection: 'naive_daily_stats' },
    ),
  );
  const redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
  const worker = new Worker<NaiveEvent>(
    NAIVE_QUEUE,
    async (job) => {
      const event = job.data;
      await Event.create(event);
      const date = new Date(event.timestamp ?? Date.now()).toISOString().slice(0, 10);
      const filter = { site_id: event.site_id, date, path: event.path ?? '' };
      await DailyStat.updateOne(filter, { $inc: { views: 1 } }, { upsert: true });
    },
    { connection: redis, concurrency: 50 },
  );
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  process.send?.('ready');
  const stop = (): void => {
    void worker
      .close()
      .then(() => Promise.all([redis.quit(), connection.close()]))
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
