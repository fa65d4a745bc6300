import type mongoose from 'mongoose';
import {
  boundedMongo,
  copyWith,
  isDuplicateKeyError,
  eventKeyOf,
  getRawEventModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type RawEventDocument,
  type WriteToken,
} from '@analytics/common';

/** The write that stored an event; `null` for events stored before writes had manifests (settled). */
export type StoredBy = WriteToken | null;

export interface RawEventRepository {
  /**
   * Stores each event once per (site_id, event_id), tagged with `token`, and tells for every event of
   * the batch which write stored it (this one, or an earlier one for a resent or retried event).
   * One round trip when every event is new; two more when some were stored before.
   */
  insertOnce(docs: RawEventDocument[], token: WriteToken): Promise<Map<string, StoredBy>>;
  /** The events a write stored, as stored. One round trip, bounded by that write's size. */
  findByWrite(token: WriteToken): Promise<RawEventDocument[]>;
  /**
   * Moves events from the write that stored them to `to`, each only if it still belongs to its `from`
   * write; resolves to the events now tagged `to` (so two processors can never both take one).
   */
  reassign(events: { key: string; from: WriteToken }[], to: WriteToken): Promise<RawEventDocument[]>;
  /**
   * Visit backfill: takes up to `limit` events never counted in the visit parts for the write `to`
   * (each only while still uncounted, so two backfills cannot both take one) and resolves to them.
   */
  takeUncountedInVisits(limit: number, to: WriteToken): Promise<RawEventDocument[]>;
  /** Backfill writes that took events and may not have counted them yet (a backfill stopped half-way). */
  backfillWritesInFlight(): Promise<WriteToken[]>;
  /** Marks a backfill write's events counted in the visit parts (after its manifest was applied). */
  markCountedInVisits(token: WriteToken): Promise<void>;
}

/** Plain inserts are ~100× cheaper than upserts on the test engine, and as cheap on MongoDB. */
const INSERT_ROUNDS = 3;

export function createRawEventRepository(connection: mongoose.Connection): RawEventRepository {
  const collection = getRawEventModel(connection).collection as unknown as mongoose.mongo.Collection<
    RawEventDocument & { _id?: unknown }
  >;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;

  async function storedBy(keys: string[], docs: RawEventDocument[]): Promise<Map<string, StoredBy>> {
    const wanted = new Set(keys);
    const found = await boundedMongo(
      collection
        .find(
          {
            site_id: { $in: [...new Set(docs.map((d) => d.site_id))] },
            event_id: { $in: docs.map((d) => d.event_id) },
          },
          { projection: { site_id: 1, event_id: 1, wt: 1, ws: 1 }, maxTimeMS },
        )
        .toArray(),
      maxTimeMS,
      'mongodb read stored events',
    );
    const result = new Map<string, StoredBy>();
    for (const doc of found) {
      const key = eventKeyOf(doc);
      if (!wanted.has(key)) continue;
      result.set(key, doc.wt !== undefined && doc.ws !== undefined ? { writer: doc.wt, seq: doc.ws } : null);
    }
    return result;
  }

  return {
    async insertOnce(docs, token) {
      const result = new Map<string, StoredBy>();
      let pending = docs.map((doc) => copyWith(doc, { wt: token.writer, ws: token.seq }));
      for (let round = 0; round < INSERT_ROUNDS && pending.length > 0; round += 1) {
        try {
          await boundedMongo(
            collection.insertMany(pending, { ordered: false, maxTimeMS }),
            maxTimeMS,
            'mongodb insert events',
          );
          for (const doc of pending) result.set(eventKeyOf(doc), token);
          return result;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
        // Some were stored before (or by a racing processor): read back who stored each one.
        const stored = await storedBy(pending.map(eventKeyOf), pending);
        for (const [key, by] of stored) result.set(key, by);
        pending = pending.filter((doc) => !stored.has(eventKeyOf(doc)));
      }
      if (pending.length > 0) {
        throw new Error(`${pending.length} events still not stored after ${INSERT_ROUNDS} insert rounds`);
      }
      return result;
    },

    async findByWrite(token) {
      return boundedMongo(
        collection.find({ wt: token.writer, ws: token.seq }, { maxTimeMS }).toArray(),
        maxTimeMS,
        'mongodb read a write back',
      );
    },

    async reassign(events, to) {
      if (events.length === 0) return [];
      // One update per site and write they come from (a per-event update costs a scan each on the test
      // engine). Each event moves only while it still belongs to that write, so two processors cannot
      // both take it; one site per update, so no event that was not asked for can match.
      const groups = new Map<string, { from: WriteToken; siteId: string; eventIds: string[] }>();
      for (const { key, from } of events) {
        const [siteId, eventId] = key.split('\u0000') as [string, string];
        const id = `${from.writer}:${from.seq}\u0000${siteId}`;
        const group = groups.get(id) ?? { from, siteId, eventIds: [] };
        group.eventIds.push(eventId);
        groups.set(id, group);
      }
      for (const { from, siteId, eventIds } of groups.values()) {
        await boundedMongo(
          collection.updateMany(
            { site_id: siteId, event_id: { $in: eventIds }, wt: from.writer, ws: from.seq },
            { $set: { wt: to.writer, ws: to.seq } },
            { maxTimeMS },
          ),
          maxTimeMS,
          'mongodb reassign events',
        );
      }
      return this.findByWrite(to);
    },

    async takeUncountedInVisits(limit, to) {
      const candidates = await boundedMongo(
        collection
          .find({ in_visits: { $exists: false } }, { projection: { _id: 1 }, maxTimeMS })
          .limit(limit)
          .toArray(),
        maxTimeMS,
        'mongodb read events to backfill',
      );
      if (candidates.length === 0) return [];
      // `false`: taken by a backfill write, not counted yet (backfillWritesInFlight finds them again).
      await boundedMongo(
        collection.updateMany(
          { _id: { $in: candidates.map((doc) => doc._id) }, in_visits: { $exists: false } },
          { $set: { wt: to.writer, ws: to.seq, in_visits: false } },
          { maxTimeMS },
        ),
        maxTimeMS,
        'mongodb take events to backfill',
      );
      return this.findByWrite(to);
    },

    async backfillWritesInFlight() {
      const taken = await boundedMongo(
        collection.find({ in_visits: false }, { projection: { wt: 1, ws: 1 }, maxTimeMS }).toArray(),
        maxTimeMS,
        'mongodb read backfill writes in flight',
      );
      const tokens = new Map<string, WriteToken>();
      for (const doc of taken) {
        if (doc.wt !== undefined && doc.ws !== undefined)
          tokens.set(`${doc.wt}:${doc.ws}`, { writer: doc.wt, seq: doc.ws });
      }
      return [...tokens.values()].sort((a, b) => a.seq - b.seq);
    },

    async markCountedInVisits(token) {
      await boundedMongo(
        collection.updateMany(
          { wt: token.writer, ws: token.seq, in_visits: false },
          { $set: { in_visits: true } },
          { maxTimeMS },
        ),
        maxTimeMS,
        'mongodb mark backfilled events',
      );
    },
  };
}
