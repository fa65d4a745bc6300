import type mongoose from 'mongoose';
import {
  boundedMongo,
  getRollupModel,
  MONGO_OPERATION_TIMEOUT_MS,
  rollupId,
  type RollupDocument,
  type WriteManifestDocument,
} from '@analytics/common';

export interface RollupRepository {
  /**
   * Applies a write's increments: each view rollup is created at 0 if missing, then raised by the
   * write's count only if no write of the same writer with this or a later sequence landed there, and
   * each user joins its bucket's set. Applying a manifest again changes nothing. One round trip.
   */
  apply(manifests: WriteManifestDocument[]): Promise<void>;
}

export function createRollupRepository(connection: mongoose.Connection): RollupRepository {
  // Typed by our document (string ids), not by the default ObjectId-keyed collection type.
  const collection = getRollupModel(connection)
    .collection as unknown as mongoose.mongo.Collection<RollupDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  return {
    async apply(manifests) {
      const ops: mongoose.mongo.AnyBulkWriteOperation<RollupDocument>[] = [];
      for (const manifest of manifests) {
        // The writer id is ours (hex), never user input, so it may be a field name.
        const guard = `w.${manifest.writer}`;
        for (const v of manifest.views) {
          const created: Omit<RollupDocument, '_id'> = {
            kind: 'views',
            site_id: v.site_id,
            period: v.period,
            bucket: v.bucket,
            path: v.path,
            views: 0,
          };
          // Two steps because an upsert cannot also carry the guard: a guarded filter that fails to match
          // would insert a second document. The test engine lacks $max, so no single-step form exists.
          ops.push({
            updateOne: { filter: { _id: v.rollup_id }, update: { $setOnInsert: created }, upsert: true },
          });
          ops.push({
            updateOne: {
              filter: {
                _id: v.rollup_id,
                $or: [{ [guard]: { $exists: false } }, { [guard]: { $lt: manifest.seq } }],
              },
              update: { $inc: { views: v.views }, $set: { [guard]: manifest.seq } },
            },
          });
        }
        for (const u of manifest.users) {
          const _id = rollupId.users(u.period, u.site_id, u.bucket, u.user_id);
          const doc: Omit<RollupDocument, '_id'> = {
            kind: 'users',
            site_id: u.site_id,
            period: u.period,
            bucket: u.bucket,
            user_id: u.user_id,
          };
          ops.push({ updateOne: { filter: { _id }, update: { $setOnInsert: doc }, upsert: true } });
        }
      }
      if (ops.length === 0) return;
      // Ordered: each raise must run after its create, and one writer's writes in sequence order.
      await boundedMongo(
        collection.bulkWrite(ops, { ordered: true, maxTimeMS }),
        maxTimeMS,
        'mongodb apply rollups',
      );
    },
  };
}
