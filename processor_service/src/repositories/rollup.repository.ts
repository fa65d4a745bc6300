import type mongoose from 'mongoose';
import {
  boundedMongo,
  getRollupModel,
  rollupId,
  type RollupDocument,
  type RollupPeriod,
} from '@analytics/common';

export interface ViewCount {
  siteId: string;
  period: RollupPeriod;
  bucket: string;
  path: string;
  views: number;
  /** Hourly rollups: the day-path key their day's sum groups on. */
  dayPathKey?: string;
}

export interface UserSeen {
  siteId: string;
  period: RollupPeriod;
  bucket: string;
  userId: string;
}

export interface RollupRepository {
  /**
   * Raises each view rollup to a recounted value, never lowers it (a slower worker's older recount cannot
   * undo a newer one), and adds each user to its bucket's set. Re-running it changes nothing. One round trip.
   */
  apply(views: ViewCount[], users: UserSeen[]): Promise<void>;
  /** The sum of the hourly rollups of each day-path key (a day's views of a path). One round trip. */
  sumHoursOfDays(dayPathKeys: string[]): Promise<Map<string, number>>;
}

export function createRollupRepository(connection: mongoose.Connection): RollupRepository {
  // Typed by our document (string ids), not by the default ObjectId-keyed collection type.
  const collection = getRollupModel(connection)
    .collection as unknown as mongoose.mongo.Collection<RollupDocument>;
  return {
    async apply(views, users) {
      const ops: mongoose.mongo.AnyBulkWriteOperation<RollupDocument>[] = [];
      for (const v of views) {
        const _id = rollupId.views(v.period, v.siteId, v.bucket, v.path);
        const created: Omit<RollupDocument, '_id'> = {
          kind: 'views',
          site_id: v.siteId,
          period: v.period,
          bucket: v.bucket,
          path: v.path,
          views: 0,
        };
        if (v.dayPathKey !== undefined) created.dp_key = v.dayPathKey;
        // Two steps because MongoDB's upsert cannot express "create, or raise if lower" without $max,
        // which the test engine lacks: create at 0 if missing, then raise if lower.
        ops.push({ updateOne: { filter: { _id }, update: { $setOnInsert: created }, upsert: true } });
        ops.push({
          updateOne: { filter: { _id, views: { $lt: v.views } }, update: { $set: { views: v.views } } },
        });
      }
      for (const u of users) {
        const _id = rollupId.users(u.period, u.siteId, u.bucket, u.userId);
        const doc: Omit<RollupDocument, '_id'> = {
          kind: 'users',
          site_id: u.siteId,
          period: u.period,
          bucket: u.bucket,
          user_id: u.userId,
        };
        ops.push({ updateOne: { filter: { _id }, update: { $setOnInsert: doc }, upsert: true } });
      }
      if (ops.length === 0) return;
      // Ordered: each "raise" must run after its "create".
      await boundedMongo(collection.bulkWrite(ops, { ordered: true }));
    },
    async sumHoursOfDays(dayPathKeys) {
      const sums = new Map<string, number>();
      if (dayPathKeys.length === 0) return sums;
      const rows = await boundedMongo(
        collection
          .aggregate<{ _id: string; views: number }>([
            { $match: { dp_key: { $in: dayPathKeys } } },
            { $group: { _id: '$dp_key', views: { $sum: '$views' } } },
          ])
          .toArray(),
      );
      for (const row of rows) sums.set(row._id, row.views);
      return sums;
    },
  };
}
