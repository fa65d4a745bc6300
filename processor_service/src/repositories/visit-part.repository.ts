import type mongoose from 'mongoose';
import {
  boundedMongo,
  copyWith,
  isDuplicateKeyError,
  getVisitPartModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type ManifestVisitPart,
  type VisitPartDocument,
  type WriteManifestDocument,
} from '@analytics/common';

export interface VisitPartRepository {
  /**
   * Applies the manifests' visit parts, in their order: a part new to the collection is inserted whole
   * (with the writer's guard); an existing one gets the write's count once (guarded by the writer's
   * sequence, as view rollups) and its first and last event moved when the write's are earlier or later.
   * Applying a manifest again changes nothing. Two or three round trips whatever the number of parts.
   */
  apply(manifests: WriteManifestDocument[]): Promise<void>;
}

type PartOps = mongoose.mongo.AnyBulkWriteOperation<VisitPartDocument>[];

/** Moves first and last only forwards in `(time, event_id)` order: idempotent and order-free. */
function firstAndLastOps(part: ManifestVisitPart): PartOps {
  return [
    {
      updateOne: {
        filter: { _id: part._id, $or: [{ ft: { $gt: part.ft } }, { ft: part.ft, fi: { $gt: part.fi } }] },
        update: { $set: { ft: part.ft, fi: part.fi, f: part.f } },
      },
    },
    {
      updateOne: {
        filter: { _id: part._id, $or: [{ lt: { $lt: part.lt } }, { lt: part.lt, li: { $lt: part.li } }] },
        update: { $set: { lt: part.lt, li: part.li } },
      },
    },
  ];
}

export function createVisitPartRepository(connection: mongoose.Connection): VisitPartRepository {
  const collection = getVisitPartModel(connection)
    .collection as unknown as mongoose.mongo.Collection<VisitPartDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;

  return {
    async apply(manifests) {
      const entries = manifests.flatMap((manifest) =>
        (manifest.visits ?? []).map((part) => ({ part, writer: manifest.writer, seq: manifest.seq })),
      );
      if (entries.length === 0) return;
      const ids = [...new Set(entries.map((e) => e.part._id))];
      const existing = new Set(
        (
          await boundedMongo(
            collection.find({ _id: { $in: ids } }, { projection: { _id: 1 }, maxTimeMS }).toArray(),
            maxTimeMS,
            'mongodb read visit parts',
          )
        ).map((doc) => doc._id),
      );

      // New parts, each the first time it appears here: inserted whole (plain inserts are ~100× cheaper
      // than upserts on the test engine). Later appearances, and parts that exist, are updates.
      const inserts: VisitPartDocument[] = [];
      const updates: typeof entries = [];
      for (const entry of entries) {
        if (existing.has(entry.part._id)) {
          updates.push(entry);
          continue;
        }
        existing.add(entry.part._id);
        inserts.push(copyWith(entry.part, { w: { [entry.writer]: entry.seq } }));
      }
      let racedInserts: VisitPartDocument[] = [];
      if (inserts.length > 0) {
        try {
          await boundedMongo(
            collection.insertMany(inserts, { ordered: false, maxTimeMS }),
            maxTimeMS,
            'mongodb insert visit parts',
          );
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          // Another processor created some of them meanwhile (or, on MongoDB, part of this insert landed):
          // create-if-missing, then the guarded updates, which skip what landed with this write's guard.
          racedInserts = inserts;
        }
      }

      const ops: PartOps = [];
      for (const part of racedInserts) {
        const [writer, seq] = Object.entries(part.w ?? {})[0]!;
        const { w: _guard, ...content } = part;
        ops.push({
          updateOne: {
            filter: { _id: part._id },
            update: { $setOnInsert: { ...content, w: { [writer]: seq } } },
            upsert: true,
          },
        });
        ops.push(...guardedUpdateOps(content, writer, seq));
      }
      for (const { part, writer, seq } of updates) ops.push(...guardedUpdateOps(part, writer, seq));
      if (ops.length === 0) return;
      // Ordered: one writer's writes in sequence order, and each create before its updates.
      await boundedMongo(
        collection.bulkWrite(ops, { ordered: true, maxTimeMS }),
        maxTimeMS,
        'mongodb apply visit parts',
      );
    },
  };
}

function guardedUpdateOps(part: ManifestVisitPart, writer: string, seq: number): PartOps {
  // The writer id is ours (hex), never user input, so it may be a field name.
  const guard = `w.${writer}`;
  return [
    {
      updateOne: {
        filter: { _id: part._id, $or: [{ [guard]: { $exists: false } }, { [guard]: { $lt: seq } }] },
        update: { $inc: { n: part.n }, $set: { [guard]: seq } },
      },
    },
    ...firstAndLastOps(part),
  ];
}
