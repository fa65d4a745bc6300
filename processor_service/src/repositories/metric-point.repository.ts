import type mongoose from 'mongoose';
import {
  copyWith,
  boundedMongo,
  isDuplicateKeyError,
  getMetricPointModel,
  metricPointKey,
  MONGO_OPERATION_TIMEOUT_MS,
  type MetricPointDocument,
  type WriteToken,
} from '@analytics/common';

/** A point as the processor builds it, before a write tags it with its token. */
export type NewMetricPoint = Omit<MetricPointDocument, 'wt' | 'ws'>;

export interface MetricPointRepository {
  /**
   * Stores each point once per (site_id, metric_id), tagged with `token`, and tells for every point of the
   * batch which write stored it (this one, or an earlier one for a resent or retried point).
   */
  insertOnce(points: NewMetricPoint[], token: WriteToken): Promise<Map<string, WriteToken>>;
  /** The points a write stored. */
  findByWrite(token: WriteToken): Promise<MetricPointDocument[]>;
  /** Moves points to `to`, each only while it still belongs to its `from` write; the points now `to`'s. */
  reassign(points: { key: string; from: WriteToken }[], to: WriteToken): Promise<MetricPointDocument[]>;
}

const INSERT_ROUNDS = 3;

export const keyOfPoint = (point: { site_id: string; metric_id: string }): string =>
  metricPointKey(point.site_id, point.metric_id);

/**
 * The same steps as the raw events' repository: a plain unordered insert, and only when some points were
 * stored before, a read-back of who stored them (the test engine stores nothing of an insert with a
 * duplicate, MongoDB stores the rest: reading back makes both the same), then the rest again.
 */
export function createMetricPointRepository(connection: mongoose.Connection): MetricPointRepository {
  const collection = getMetricPointModel(connection).collection as unknown as mongoose.mongo.Collection<
    MetricPointDocument & { _id?: unknown }
  >;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;

  async function storedBy(points: NewMetricPoint[]): Promise<Map<string, WriteToken>> {
    const wanted = new Set(points.map(keyOfPoint));
    const found = await boundedMongo(
      collection
        .find(
          {
            site_id: { $in: [...new Set(points.map((p) => p.site_id))] },
            metric_id: { $in: points.map((p) => p.metric_id) },
          },
          { maxTimeMS },
        )
        .toArray(),
      maxTimeMS,
      'mongodb read stored metric points',
    );
    const result = new Map<string, WriteToken>();
    for (const doc of found) {
      const key = keyOfPoint(doc);
      if (wanted.has(key)) result.set(key, { writer: doc.wt, seq: doc.ws });
    }
    return result;
  }

  async function findByWrite(token: WriteToken): Promise<MetricPointDocument[]> {
    return boundedMongo(
      collection.find({ wt: token.writer, ws: token.seq }, { maxTimeMS }).toArray(),
      maxTimeMS,
      'mongodb read a metric write back',
    );
  }

  return {
    async insertOnce(points, token) {
      const result = new Map<string, WriteToken>();
      let pending: MetricPointDocument[] = points.map((p) =>
        copyWith(p, { wt: token.writer, ws: token.seq }),
      );
      for (let round = 0; round < INSERT_ROUNDS && pending.length > 0; round += 1) {
        try {
          await boundedMongo(
            collection.insertMany(pending, { ordered: false, maxTimeMS }),
            maxTimeMS,
            'mongodb insert metric points',
          );
          for (const doc of pending) result.set(keyOfPoint(doc), token);
          return result;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
        const stored = await storedBy(pending);
        for (const [key, by] of stored) result.set(key, by);
        pending = pending.filter((doc) => !stored.has(keyOfPoint(doc)));
      }
      if (pending.length > 0) {
        throw new Error(
          `${pending.length} metric points still not stored after ${INSERT_ROUNDS} insert rounds`,
        );
      }
      return result;
    },

    findByWrite,

    async reassign(points, to) {
      if (points.length === 0) return [];
      const groups = new Map<string, { from: WriteToken; siteId: string; metricIds: string[] }>();
      for (const { key, from } of points) {
        const [siteId, metricId] = key.split('\u0000') as [string, string];
        const id = `${from.writer}:${from.seq}\u0000${siteId}`;
        const group = groups.get(id) ?? { from, siteId, metricIds: [] };
        group.metricIds.push(metricId);
        groups.set(id, group);
      }
      for (const { from, siteId, metricIds } of groups.values()) {
        await boundedMongo(
          collection.updateMany(
            { site_id: siteId, metric_id: { $in: metricIds }, wt: from.writer, ws: from.seq },
            { $set: { wt: to.writer, ws: to.seq } },
            { maxTimeMS },
          ),
          maxTimeMS,
          'mongodb reassign metric points',
        );
      }
      return findByWrite(to);
    },
  };
}
