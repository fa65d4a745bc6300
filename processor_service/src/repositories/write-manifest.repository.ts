import type mongoose from 'mongoose';
import {
  boundedMongo,
  getWriteManifestModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type WriteManifestDocument,
} from '@analytics/common';

/** What the write protocol reads and writes of its manifests, whatever they owe (events or metric points). */
export interface ManifestRepository<M> {
  /** Stores the manifest unless one exists for that write; resolves to the one stored (the first). */
  claim(manifest: M): Promise<M>;
  /** The stored manifests among these ids. One round trip. */
  find(ids: string[]): Promise<Map<string, M>>;
  /** A writer's manifests not yet applied, below `seq`, oldest first. */
  unappliedBefore(writer: string, seq: number): Promise<M[]>;
  markApplied(ids: string[]): Promise<void>;
}

export type WriteManifestRepository = ManifestRepository<WriteManifestDocument>;

interface StoredManifest {
  _id: string;
  writer: string;
  seq: number;
  applied: boolean;
}

/** A manifest repository on one collection; `label` names it in timeout errors (`write`, `metric write`). */
export function createManifestRepository<M extends StoredManifest>(
  collection: mongoose.mongo.Collection<M>,
  label: string,
): ManifestRepository<M> {
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  // The driver's filter types do not narrow through a generic document: the filters below only use the
  // fields StoredManifest guarantees.
  type Filter = mongoose.mongo.Filter<M>;
  return {
    async claim(manifest) {
      const stored = await boundedMongo(
        collection.findOneAndUpdate(
          { _id: manifest._id } as Filter,
          { $setOnInsert: manifest } as mongoose.mongo.UpdateFilter<M>,
          { upsert: true, returnDocument: 'after', maxTimeMS },
        ),
        maxTimeMS,
        `mongodb claim a ${label} manifest`,
      );
      if (!stored) throw new Error(`${label} manifest ${manifest._id} was neither found nor stored`);
      return stored as M;
    },
    async find(ids) {
      const result = new Map<string, M>();
      if (ids.length === 0) return result;
      const found = await boundedMongo(
        collection.find({ _id: { $in: ids } } as Filter, { maxTimeMS }).toArray(),
        maxTimeMS,
        `mongodb read ${label} manifests`,
      );
      for (const manifest of found) result.set(manifest._id, manifest as M);
      return result;
    },
    async unappliedBefore(writer, seq) {
      const found = await boundedMongo(
        collection
          .find({ writer, applied: false, seq: { $lt: seq } } as Filter, { maxTimeMS })
          .sort({ seq: 1 })
          .toArray(),
        maxTimeMS,
        `mongodb read unapplied ${label}s`,
      );
      return found as M[];
    },
    async markApplied(ids) {
      if (ids.length === 0) return;
      await boundedMongo(
        collection.updateMany(
          { _id: { $in: ids } } as Filter,
          { $set: { applied: true } } as mongoose.mongo.UpdateFilter<M>,
          { maxTimeMS },
        ),
        maxTimeMS,
        `mongodb mark ${label}s applied`,
      );
    },
  };
}

export function createWriteManifestRepository(connection: mongoose.Connection): WriteManifestRepository {
  return createManifestRepository(
    getWriteManifestModel(connection)
      .collection as unknown as mongoose.mongo.Collection<WriteManifestDocument>,
    'write',
  );
}
