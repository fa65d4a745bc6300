import type mongoose from 'mongoose';
import {
  boundedMongo,
  dayBucket,
  getRawEventModel,
  hourBucket,
  hourPathKey,
  PAGE_VIEW,
  type RawEventDocument,
  type TrackedEvent,
} from '@analytics/common';

/** A tracked event with the request it came in and when ingestion received it. */
export interface IncomingEvent {
  event: TrackedEvent;
  requestId: string;
  receivedAt: Date;
}

export function toRawEventDocument({ event, requestId, receivedAt }: IncomingEvent): RawEventDocument {
  const timestamp = new Date(event.timestamp);
  const hour = hourBucket(timestamp);
  const doc: RawEventDocument = {
    site_id: event.site_id,
    event_id: event.event_id,
    event_type: event.event_type,
    timestamp,
    hour,
    day: dayBucket(timestamp),
    received_at: receivedAt,
    request_id: requestId,
  };
  if (event.path !== undefined) doc.path = event.path;
  if (event.user_id !== undefined) doc.user_id = event.user_id;
  if (event.referrer !== undefined) doc.referrer = event.referrer;
  if (event.props !== undefined) {
    doc.props = Object.entries(event.props).map(([key, value]) => ({ key, value }));
  }
  if (event.event_type === PAGE_VIEW && event.path !== undefined)
    doc.hp_key = hourPathKey(event.site_id, hour, event.path);
  return doc;
}

export interface RawEventRepository {
  /**
   * Stores each event once: an upsert keyed by (site_id, event_id) that only ever inserts. A resent or
   * retried event finds its document and changes nothing. One round trip.
   */
  insertOnce(docs: RawEventDocument[]): Promise<{ inserted: number; insertedIndexes: Set<number> }>;
  /** The stored documents of these (site_id, event_id) pairs. One round trip. */
  findStored(keys: { site_id: string; event_id: string }[]): Promise<RawEventDocument[]>;
  /** Page views per hour-path key, counted from what is stored. One round trip. */
  countPageViews(hourPathKeys: string[]): Promise<Map<string, number>>;
}

export function createRawEventRepository(connection: mongoose.Connection): RawEventRepository {
  const collection = getRawEventModel(connection).collection;
  return {
    async insertOnce(docs) {
      if (docs.length === 0) return { inserted: 0, insertedIndexes: new Set() };
      const result = await boundedMongo(
        collection.bulkWrite(
          docs.map((doc) => ({
            updateOne: {
              filter: { site_id: doc.site_id, event_id: doc.event_id },
              update: { $setOnInsert: doc },
              upsert: true,
            },
          })),
          { ordered: false },
        ),
      );
      return {
        inserted: result.upsertedCount,
        insertedIndexes: new Set(Object.keys(result.upsertedIds).map(Number)),
      };
    },
    async findStored(keys) {
      if (keys.length === 0) return [];
      const wanted = new Set(keys.map((k) => `${k.site_id}\u0000${k.event_id}`));
      const candidates = await boundedMongo(
        collection
          .find<RawEventDocument>({
            site_id: { $in: [...new Set(keys.map((k) => k.site_id))] },
            event_id: { $in: keys.map((k) => k.event_id) },
          })
          .toArray(),
      );
      return candidates.filter((doc) => wanted.has(`${doc.site_id}\u0000${doc.event_id}`));
    },
    async countPageViews(hourPathKeys) {
      const counts = new Map<string, number>();
      if (hourPathKeys.length === 0) return counts;
      const rows = await boundedMongo(
        collection
          .aggregate<{ _id: string; views: number }>([
            { $match: { hp_key: { $in: hourPathKeys } } },
            { $group: { _id: '$hp_key', views: { $sum: 1 } } },
          ])
          .toArray(),
      );
      for (const row of rows) counts.set(row._id, row.views);
      return counts;
    },
  };
}
