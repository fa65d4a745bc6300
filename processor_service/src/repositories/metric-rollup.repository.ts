import mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricRollupModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type MetricRollupDocument,
  type MetricWriteDocument,
} from '@analytics/common';

export interface MetricRollupRepository {
  /**
   * Applies metric write manifests, in the order given (each writer's in sequence order): every rollup is
   * created empty if missing; its counters (count, sum limbs, sketch bins) are raised by the write's
   * delta only if that writer's guard there is below the write's sequence (the guard is set in the same
   * update); `min` and `max` move by a conditional `$set` (`$min`/`$max` are missing on the test engine,
   * and a conditional set is idempotent by itself). Applying a manifest again changes nothing. One round
   * trip.
   */
  apply(manifests: MetricWriteDocument[]): Promise<void>;
}

/**
 * Counters are sent as doubles: `$inc` of integer-valued doubles is exact below 2^53, and a double field
 * never becomes a 32-bit integer that could overflow.
 */
const double = (value: number) => new mongoose.mongo.Double(value);

export function createMetricRollupRepository(connection: mongoose.Connection): MetricRollupRepository {
  const collection = getMetricRollupModel(connection)
    .collection as unknown as mongoose.mongo.Collection<MetricRollupDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  return {
    async apply(manifests) {
      const ops: mongoose.mongo.AnyBulkWriteOperation<MetricRollupDocument>[] = [];
      for (const manifest of manifests) {
        // The writer id is ours (hex), limb indexes and sketch bins are ours: never user input.
        const guard = `w.${manifest.writer}`;
        for (const d of manifest.deltas) {
          ops.push({
            updateOne: {
              filter: { _id: d.rollup_id },
              update: {
                $setOnInsert: {
                  site_id: d.site_id,
                  name: d.name,
                  period: d.period,
                  bucket: d.bucket,
                  tags: d.tags,
                  tag_pairs: d.tag_pairs,
                  // A 32-bit 0: the first `$inc` of a double makes the field a double.
                  count: 0,
                },
              },
              upsert: true,
            },
          });
          const inc: Record<string, mongoose.mongo.Double> = { count: double(d.count) };
          for (const [j, limb] of Object.entries(d.s)) inc[`s.${j}`] = double(limb);
          for (const [bin, n] of Object.entries(d.h)) inc[`h.${bin}`] = double(n);
          ops.push({
            updateOne: {
              filter: {
                _id: d.rollup_id,
                $or: [{ [guard]: { $exists: false } }, { [guard]: { $lt: manifest.seq } }],
              },
              update: { $inc: inc, $set: { [guard]: manifest.seq } },
            },
          });
          ops.push({
            updateOne: {
              filter: { _id: d.rollup_id, $or: [{ min: { $exists: false } }, { min: { $gt: d.min } }] },
              update: { $set: { min: d.min } },
            },
          });
          ops.push({
            updateOne: {
              filter: { _id: d.rollup_id, $or: [{ max: { $exists: false } }, { max: { $lt: d.max } }] },
              update: { $set: { max: d.max } },
            },
          });
        }
      }
      if (ops.length === 0) return;
      await boundedMongo(
        collection.bulkWrite(ops, { ordered: true, maxTimeMS }),
        maxTimeMS,
        'mongodb apply metric rollups',
      );
    },
  };
}
