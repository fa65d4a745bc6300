import type { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import {
  getRawEventModel,
  getRollupModel,
  getVisitPartModel,
  rollupId,
  visitBucketOf,
  visitorOfStoredEvent,
  visitPartId,
} from '@analytics/common';
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
 * hourly and daily page views per path, hourly and daily user sets, and the events of every visit part
 * with its first and last event.
 */
export async function rollupDifferences(mongo: mongoose.Connection): Promise<string[]> {
  const raw = await getRawEventModel(mongo).find({}).lean();
  const expected = new Map<string, number | true | string>();
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
  const stored = new Map<string, number | true | string>();
  for (const r of await getRollupModel(mongo).find({}).lean()) {
    stored.set(r._id, r.kind === 'views' ? (r.views ?? 0) : true);
  }
  // Visit parts, as `count first-event last-event`, for the events counted in them.
  const parts = new Map<string, { n: number; first: [number, string]; last: [number, string] }>();
  for (const e of raw) {
    const visitor = visitorOfStoredEvent(e);
    if (visitor === undefined || e.in_visits !== true) continue;
    const props =
      e.props && e.props.length > 0 ? [...e.props].sort((a, b) => (a.key < b.key ? -1 : 1)) : undefined;
    const id = visitPartId({
      site_id: e.site_id,
      visitor,
      b: visitBucketOf(e.timestamp),
      name: e.event_type,
      page: e.path,
      props,
    });
    const at: [number, string] = [e.timestamp.getTime(), e.event_id];
    const part = parts.get(id) ?? { n: 0, first: at, last: at };
    part.n += 1;
    if (at[0] < part.first[0] || (at[0] === part.first[0] && at[1] < part.first[1])) part.first = at;
    if (at[0] > part.last[0] || (at[0] === part.last[0] && at[1] > part.last[1])) part.last = at;
    parts.set(id, part);
  }
  for (const [id, part] of parts)
    expected.set(`part ${id}`, `${part.n} ${part.first.join('/')} ${part.last.join('/')}`);
  for (const p of await getVisitPartModel(mongo).find({}).lean()) {
    stored.set(`part ${p._id}`, `${p.n} ${p.ft.getTime()}/${p.fi} ${p.lt.getTime()}/${p.li}`);
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
