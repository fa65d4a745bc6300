import { dayPathKey, logger, type RawEventDocument } from '@analytics/common';
import type { RawEventRepository } from '../repositories/raw-event.repository';
import type { RollupRepository, UserSeen, ViewCount } from '../repositories/rollup.repository';

/** Test-only hook between the raw write and the rollup writes (see faults.ts). */
export type AfterRawWriteHook = () => void | Promise<void>;

export interface StoreResult {
  received: number;
  inserted: number;
}

/**
 * Persists a batch of events and brings every rollup they touch up to date, exactly, in five round trips
 * whatever the batch size (six when the batch holds events stored before):
 *
 * 1. raw events: insert-once upserts keyed by (site_id, event_id) (then read back those already stored);
 * 2. recount the page views of every hour-path the batch touches, from the raw events;
 * 3. raise each hourly view rollup to its recount (never lower), add each user to its hour and day sets;
 * 4. sum the hourly rollups of every day-path the batch touches;
 * 5. raise each daily view rollup to that sum.
 *
 * Nothing is incremented, so nothing can be counted twice: a retry, a duplicate or a racing worker only
 * recomputes the same totals. Nothing is lost either: the raw write comes first, and whichever recount
 * starts last sees every stored event (docs/architecture.md gives the argument in full).
 */
export class EventStore {
  constructor(
    private readonly rawEvents: RawEventRepository,
    private readonly rollups: RollupRepository,
    private readonly afterRawWrite: AfterRawWriteHook = () => undefined,
  ) {}

  /**
   * The rollups follow what is stored, not what was delivered: an event this write inserted is stored as
   * delivered; for the others (a resent id, possibly with other content, or a retry of this very batch)
   * the stored version is read back. One more round trip, only for batches holding such events.
   */
  private async storedVersions(
    docs: RawEventDocument[],
    insertedIndexes: Set<number>,
  ): Promise<RawEventDocument[]> {
    const inserted = docs.filter((_, i) => insertedIndexes.has(i));
    if (inserted.length === docs.length) return docs;
    const others = docs.filter((_, i) => !insertedIndexes.has(i));
    return [...inserted, ...(await this.rawEvents.findStored(others))];
  }

  async store(docs: RawEventDocument[]): Promise<StoreResult> {
    const started = Date.now();
    const { inserted, insertedIndexes } = await this.rawEvents.insertOnce(docs);
    await this.afterRawWrite();
    const stored = await this.storedVersions(docs, insertedIndexes);

    const hourly = new Map<string, { siteId: string; hour: string; day: string; path: string }>();
    const users = new Map<string, UserSeen>();
    for (const doc of stored) {
      if (doc.hp_key !== undefined && doc.path !== undefined) {
        hourly.set(doc.hp_key, { siteId: doc.site_id, hour: doc.hour, day: doc.day, path: doc.path });
      }
      if (doc.user_id !== undefined) {
        for (const [period, bucket] of [
          ['H', doc.hour],
          ['D', doc.day],
        ] as const) {
          users.set(`${period}|${doc.site_id}|${bucket}|${doc.user_id}`, {
            siteId: doc.site_id,
            period,
            bucket,
            userId: doc.user_id,
          });
        }
      }
    }

    const hourCounts = await this.rawEvents.countPageViews([...hourly.keys()]);
    const hourViews: ViewCount[] = [];
    const days = new Map<string, { siteId: string; day: string; path: string }>();
    for (const [key, at] of hourly) {
      const dpKey = dayPathKey(at.siteId, at.day, at.path);
      days.set(dpKey, { siteId: at.siteId, day: at.day, path: at.path });
      // A key can count 0 when a resent event id carried another path than the stored one.
      const views = hourCounts.get(key) ?? 0;
      if (views > 0) {
        hourViews.push({
          siteId: at.siteId,
          period: 'H',
          bucket: at.hour,
          path: at.path,
          views,
          dayPathKey: dpKey,
        });
      }
    }
    await this.rollups.apply(hourViews, [...users.values()]);

    const daySums = await this.rollups.sumHoursOfDays([...days.keys()]);
    const dayViews: ViewCount[] = [];
    for (const [key, at] of days) {
      const views = daySums.get(key) ?? 0;
      if (views > 0) dayViews.push({ siteId: at.siteId, period: 'D', bucket: at.day, path: at.path, views });
    }
    await this.rollups.apply(dayViews, []);

    logger.debug('batch persisted', {
      duplicates: docs.length - inserted,
      events: docs.length,
      inserted,
      hourPaths: hourViews.length,
      users: users.size,
      durationMs: Date.now() - started,
    });
    return { received: docs.length, inserted };
  }
}
