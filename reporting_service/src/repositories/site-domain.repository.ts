import type mongoose from 'mongoose';
import {
  boundedMongo,
  getSiteDomainModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type SiteDomainDocument,
} from '@analytics/common';

export interface DomainClaims {
  /** The domains this call claimed (they had no owner before). */
  inserted: string[];
  /** The owner of every requested domain after the call (this site, or another one). */
  owners: SiteDomainDocument[];
}

/** `site_domains`: which site owns each host name (one document per domain, unique by `_id`). */
export interface SiteDomainRepository {
  /** Claims each unowned domain for `siteId`; domains owned already (by anyone) are left as they are. */
  claim(siteId: string, domains: string[], claimedAt: Date): Promise<DomainClaims>;
  /** Releases those of `domains` that `siteId` owns. */
  release(siteId: string, domains: string[]): Promise<void>;
  /** Releases every domain of `siteId`. */
  releaseAll(siteId: string): Promise<void>;
  /** Removes one claim only if it is still exactly this one (an orphan left by a create that died). */
  releaseIfUnchanged(claim: SiteDomainDocument): Promise<void>;
}

const DUPLICATE_KEY = 11000;

export function createSiteDomainRepository(connection: mongoose.Connection): SiteDomainRepository {
  const claims = getSiteDomainModel(connection)
    .collection as unknown as mongoose.mongo.Collection<SiteDomainDocument>;
  const options = { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS };
  const claimOne = async (siteId: string, domain: string, claimedAt: Date): Promise<boolean> => {
    try {
      const result = await boundedMongo(
        claims.updateOne(
          { _id: domain },
          { $setOnInsert: { site_id: siteId, claimed_at: claimedAt } },
          { ...options, upsert: true },
        ),
      );
      return result.upsertedCount === 1;
    } catch (error) {
      // MongoDB may refuse one of two concurrent upserts of the same _id: the other one owns it.
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  };
  return {
    async claim(siteId, domains, claimedAt) {
      if (domains.length === 0) return { inserted: [], owners: [] };
      const claimed = await Promise.all(domains.map((domain) => claimOne(siteId, domain, claimedAt)));
      const owners = await boundedMongo(claims.find({ _id: { $in: domains } }, options).toArray());
      return { inserted: domains.filter((_, i) => claimed[i]), owners };
    },
    async release(siteId, domains) {
      if (domains.length === 0) return;
      await boundedMongo(claims.deleteMany({ _id: { $in: domains }, site_id: siteId }, options));
    },
    async releaseAll(siteId) {
      await boundedMongo(claims.deleteMany({ site_id: siteId }, options));
    },
    async releaseIfUnchanged(claim) {
      await boundedMongo(
        claims.deleteOne({ _id: claim._id, site_id: claim.site_id, claimed_at: claim.claimed_at }, options),
      );
    },
  };
}
