import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { CommandCounter, serveWorkerHost } from '../worker-host';

/**
 * The naive peer's worker: per job, one `Model.create` of the raw event and one `updateOne` with `$inc`
 * on a daily counter (two round trips per event; a retried job counts twice). Reports its figures to the
 * bench over IPC like the project's processor host.
 */
const NAIVE_QUEUE = 'naive-events';

interface NaiveEvent {
  site_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  timestamp?: string;
  referrer?: string;
  props?: Record<string, unknown>;
}

async function main(): Promise<void> {
  // monitorCommands: the bench counts round trips; autoCreate off for the test engine (no `create`).
  const connection = mongoose.createConnection(process.env.MONGODB_URI ?? '', {
    autoCreate: false,
    monitorCommands: true,
  });
  await connection.asPromise();
  const counter = new CommandCounter(connection.getClient());

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

  let jobs = 0;
  let failedJobs = 0;
  const redis = new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null });
  const worker = new Worker<NaiveEvent>(
    NAIVE_QUEUE,
    async (job) => {
      const event = job.data;
      await Event.create(event);
      const date = new Date(event.timestamp ?? Date.now()).toISOString().slice(0, 10);
      await DailyStat.updateOne(
        { site_id: event.site_id, date, path: event.path ?? '' },
        { $inc: { views: 1 } },
        { upsert: true },
      );
    },
    { connection: redis, concurrency: Number(process.env.WORKER_CONCURRENCY ?? 50) },
  );
  serveWorkerHost({
    counter,
    done: () => ({ jobs, events: jobs, failedJobs }),
    pause: () => worker.pause(),
    resume: async () => worker.resume(),
  });
  worker.on('completed', () => (jobs += 1));
  worker.on('failed', () => (failedJobs += 1));
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
