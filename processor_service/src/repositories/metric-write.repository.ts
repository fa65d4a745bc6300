import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricWriteModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type MetricWriteDocument,
} from '@analytics/common';

export interface MetricWriteRepository {
  /** Stores the manifest unless one exists for that write; resolves to the one stored (the first). */
  claim(manifest: MetricWriteDocument): Promise<MetricWriteDocument>;
  find(ids: string[]): Promise<Map<string, MetricWriteDocument>>;
  /** A writer's manifests not yet applied, below `seq`, oldest first. */
  unappliedBefore(writer: string, seq: number): Promise<MetricWriteDocument[]>;
  markApplied(ids: string[]): Promise<void>;
}

export function createMetricWriteRepository(connection: mongoose.Connection): MetricWriteRepository {
  const collection = getMetricWriteModel(connection)
    .collection as unknown as mongoose.mongo.Collection<MetricWriteDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  return {
    async claim(manifest) {
      const stored = await boundedMongo(
        collection.findOneAndUpdate(
          { _id: manifest._id },
          { $setOnInsert: manifest },
          { upsert: true, returnDocument: 'after', maxTimeMS },
        ),
        maxTimeMS,
        'mongodb claim a metric write manifest',
      );
      if (!stored) throw new Error(`metric write manifest ${manifest._id} was neither found nor stored`);
      return stored;
    },
    async find(ids) {
      const result = new Map<string, MetricWriteDocument>();
      if (ids.length === 0) return result;
      const found = await boundedMongo(
        collection.find({ _id: { $in: ids } }, { maxTimeMS }).toArray(),
        maxTimeMS,
        'mongodb read metric write manifests',
      );
      for (const manifest of found) result.set(manifest._id, manifest);
      return result;
    },
    async unappliedBefore(writer, seq) {
      return boundedMongo(
        collection
          .find({ writer, applied: false, seq: { $lt: seq } }, { maxTimeMS })
          .sort({ seq: 1 })
          .toArray(),
        maxTimeMS,
        'mongodb read unapplied metric writes',
      );
    },
    async markApplied(ids) {
      if (ids.length === 0) return;
      await boundedMongo(
        collection.updateMany({ _id: { $in: ids } }, { $set: { applied: true } }, { maxTimeMS }),
        maxTimeMS,
        'mongodb mark metric writes applied',
      );
    },
  };
}
