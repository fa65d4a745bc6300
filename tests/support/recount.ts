import type { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import { getRawEventModel, getRollupModel, rollupId } from '@analytics/common';
import { waitFor } from '@analytics/testkit';

/** Waits (bounded) until no job is waiting, active or delayed. */
export async function waitForDrain(queue: Queue, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    },
    { timeoutMs, intervalMs: 50, what: 'the queue to drain' },
  );
}

/**
 * Recounts every rollup from the raw events and returns what differs (empty when the rollups are exact):
 * hourly and daily page views per path, and hourly and daily user sets.
 */
export async function rollupDifferences(mongo: mongoose.Connection): Promise<string[]> {
  const raw = await getRawEventModel(mongo).find({}).lean();
  const expected = new Map<string, number | true>();
  for (const e of raw) {
    if (e.event_type === 'page_view' && e.path !== undefined) {
      for (const [period, bucket] of [
        ['H', e.hour],
        ['D', e.day],
      ] as const) {
        const id = rollupId.views(period, e.site_id, bucket, e.path);
        expected.set(id, ((expected.get(id) as number | undefined) ?? 0) + 1);
      }
    }
    if (e.user_id !== undefined) {
      expected.set(rollupId.users('H', e.site_id, e.hour, e.user_id), true);
      expected.set(rollupId.users('D', e.site_id, e.day, e.user_id), true);
    }
  }
  const stored = new Map<string, number | true>();
  for (const r of await getRollupModel(mongo).find({}).lean()) {
    stored.set(r._id, r.kind === 'views' ? (r.views ?? 0) : true);
  }
  const differences: string[] = [];
  for (const [id, value] of expected) {
    if (stored.get(id) !== value)
      differences.push(`${id}: expected ${String(value)}, stored ${String(stored.get(id))}`);
  }
  for (const [id, value] of stored) {
    if (!expected.has(id) && value !== 0) differences.push(`${id}: stored ${String(value)}, expected none`);
  }
  return differences;
}

/** Raw events stored more than once for the same (site_id, event_id): must be none. */
export async function duplicateRawEvents(mongo: mongoose.Connection): Promise<number> {
  const raw = await getRawEventModel(mongo).find({}).lean();
  const keys = raw.map((e) => `${e.site_id}\u0000${e.event_id}`);
  return keys.length - new Set(keys).size;
}
