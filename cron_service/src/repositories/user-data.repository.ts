import type mongoose from 'mongoose';
import {
  boundedMongo,
  getRawEventModel,
  getRollupModel,
  getUserErasureModel,
  getWriteManifestModel,
  identifiedVisitor,
  MONGO_OPERATION_TIMEOUT_MS,
  rollupId,
  type ManifestUser,
  type RollupDocument,
  type UserErasureCounts,
  type UserErasureDocument,
  type WriteManifestDocument,
} from '@analytics/common';
import { getAuditRecordModel, type AuditRecordDocument } from '../models/audit-record.model';

/** The query API's visit parts (being built beside this): identified visitors are `u:<user_id>`. */
export const VISIT_PARTS_COLLECTION = 'visit_parts';

/** What the user-erasure job reads and changes in MongoDB; every operation one bounded round trip. */
export interface UserDataRepository {
  findPendingErasures(limit: number): Promise<UserErasureDocument[]>;
  /** Deletes at most `limit` raw events of the user; the number deleted. */
  deleteEventBatch(siteId: string, userId: string, limit: number): Promise<number>;
  /**
   * Moves at most `limit` of the user's 'users' rollups (set elements) to the pseudonym: the same
   * document under the pseudonym's id, then the old one removed. Safe to repeat. The number moved.
   */
  pseudonymiseRollupBatch(siteId: string, userId: string, pseudonym: string, limit: number): Promise<number>;
  /** Rewrites the user's entries of at most `limit` write manifests to the pseudonym; the number rewritten. */
  pseudonymiseManifestBatch(
    siteId: string,
    userId: string,
    pseudonym: string,
    limit: number,
  ): Promise<number>;
  /** `visit_parts`: `visitor: u:<user_id>` becomes `u:<pseudonym>`; the number changed. */
  pseudonymiseVisitParts(siteId: string, userId: string, pseudonym: string): Promise<number>;
  recordPass(id: string, counts: UserErasureCounts, at: Date): Promise<void>;
  /** Writes the audit record (once per request), then marks the request done and forgets the user id. */
  finish(request: UserErasureDocument, totals: UserErasureCounts, at: Date, instance: string): Promise<void>;
}

export function createUserDataRepository(connection: mongoose.Connection): UserDataRepository {
  const options = { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS };
  const erasures = getUserErasureModel(connection)
    .collection as unknown as mongoose.mongo.Collection<UserErasureDocument>;
  const events = getRawEventModel(connection).collection as unknown as mongoose.mongo.Collection<{
    _id: unknown;
  }>;
  const rollups = getRollupModel(connection)
    .collection as unknown as mongoose.mongo.Collection<RollupDocument>;
  const manifests = getWriteManifestModel(connection)
    .collection as unknown as mongoose.mongo.Collection<WriteManifestDocument>;
  const audit = getAuditRecordModel(connection)
    .collection as unknown as mongoose.mongo.Collection<AuditRecordDocument>;
  const visitParts = connection.collection<{ site_id: string; visitor: string }>(VISIT_PARTS_COLLECTION);

  return {
    async findPendingErasures(limit) {
      return boundedMongo(
        erasures.find({ status: 'pending' }, options).sort({ requested_at: 1 }).limit(limit).toArray(),
      );
    },

    async deleteEventBatch(siteId, userId, limit) {
      const docs = await boundedMongo(
        events.find({ site_id: siteId, user_id: userId }, options).limit(limit).toArray(),
      );
      if (docs.length === 0) return 0;
      const result = await boundedMongo(
        events.deleteMany({ _id: { $in: docs.map((doc) => doc._id) }, site_id: siteId }, options),
      );
      return result.deletedCount;
    },

    async pseudonymiseRollupBatch(siteId, userId, pseudonym, limit) {
      const docs = await boundedMongo(
        rollups.find({ site_id: siteId, kind: 'users', user_id: userId }, options).limit(limit).toArray(),
      );
      if (docs.length === 0) return 0;
      // Ordered: each copy exists before its original goes, so a count never misses the user.
      const operations: mongoose.mongo.AnyBulkWriteOperation<RollupDocument>[] = docs.flatMap((doc) => {
        const { _id: oldId, ...fields } = doc;
        const newId = rollupId.users(doc.period, doc.site_id, doc.bucket, pseudonym);
        return [
          {
            updateOne: {
              filter: { _id: newId },
              update: { $setOnInsert: { ...fields, user_id: pseudonym } },
              upsert: true,
            },
          },
          { deleteOne: { filter: { _id: oldId, user_id: userId } } },
        ];
      });
      await boundedMongo(rollups.bulkWrite(operations, { ordered: true, ...options }));
      return docs.length;
    },

    async pseudonymiseManifestBatch(siteId, userId, pseudonym, limit) {
      const found = await boundedMongo(
        manifests
          .find({ users: { $elemMatch: { site_id: siteId, user_id: userId } } }, options)
          .limit(limit)
          .toArray(),
      );
      if (found.length === 0) return 0;
      const rename = (user: ManifestUser): ManifestUser =>
        user.site_id === siteId && user.user_id === userId ? { ...user, user_id: pseudonym } : user;
      await boundedMongo(
        manifests.bulkWrite(
          found.map((manifest) => ({
            updateOne: {
              filter: { _id: manifest._id },
              update: { $set: { users: manifest.users.map(rename) } },
            },
          })),
          { ordered: false, ...options },
        ),
      );
      return found.length;
    },

    async pseudonymiseVisitParts(siteId, userId, pseudonym) {
      const result = await boundedMongo(
        visitParts.updateMany(
          { site_id: siteId, visitor: identifiedVisitor(userId) },
          { $set: { visitor: identifiedVisitor(pseudonym) } },
          options,
        ),
      );
      return result.modifiedCount;
    },

    async recordPass(id, counts, at) {
      const inc: Record<string, number> = { passes: 1 };
      for (const [key, value] of Object.entries(counts)) inc[`counts.${key}`] = value;
      await boundedMongo(
        erasures.updateOne(
          { _id: id, status: 'pending' },
          { $inc: inc, $set: { last_pass_at: at } },
          options,
        ),
      );
    },

    async finish(request, totals, at, instance) {
      await boundedMongo(
        audit.updateOne(
          { _id: `user-erasure:${request._id}` },
          {
            $setOnInsert: {
              action: 'user-erasure',
              site_id: request.site_id,
              user_id_hash: request.user_id_hash,
              requested_by: request.requested_by,
              http_request_id: request.http_request_id,
              requested_at: request.requested_at,
              completed_at: at,
              instance,
              counts: totals,
            },
          },
          { upsert: true, ...options },
        ),
      );
      await boundedMongo(
        erasures.updateOne(
          { _id: request._id, status: 'pending' },
          { $set: { status: 'done', completed_at: at }, $unset: { user_id: '', pseudonym: '' } },
          options,
        ),
      );
    },
  };
}
