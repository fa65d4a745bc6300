import type mongoose from 'mongoose';
import {
  boundedMongo,
  getUserErasureModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type UserErasureDocument,
} from '@analytics/common';

/** Reporting's side of user erasures: it records requests; cron's `user-erasure` job carries them out. */
export interface UserErasureRepository {
  /** The pending request for this user of this site, if one is waiting. */
  findPending(siteId: string, userIdHash: string): Promise<UserErasureDocument | undefined>;
  /** False when another pending request of the same user was stored first (unique index). */
  insert(request: UserErasureDocument): Promise<boolean>;
  findById(id: string): Promise<UserErasureDocument | undefined>;
}

export function createUserErasureRepository(connection: mongoose.Connection): UserErasureRepository {
  const requests = getUserErasureModel(connection)
    .collection as unknown as mongoose.mongo.Collection<UserErasureDocument>;
  const options = { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS };
  return {
    async findPending(siteId, userIdHash) {
      const doc = await boundedMongo(
        requests.findOne({ site_id: siteId, user_id_hash: userIdHash, status: 'pending' }, options),
      );
      return doc ?? undefined;
    },
    async insert(request) {
      try {
        await boundedMongo(requests.insertOne(request));
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === 11000) return false;
        throw error;
      }
    },
    async findById(id) {
      return (await boundedMongo(requests.findOne({ _id: id }, options))) ?? undefined;
    },
  };
}
