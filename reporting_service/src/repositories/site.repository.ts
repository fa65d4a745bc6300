import type mongoose from 'mongoose';
import {
  AppError,
  boundedMongo,
  getSiteModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type SiteDocument,
} from '@analytics/common';

export interface SiteRepository {
  /** Inserts a site; a taken site_id is a 409 AppError. */
  insert(site: SiteDocument): Promise<void>;
  findById(siteId: string): Promise<SiteDocument | undefined>;
  findByReadKeyHash(readKeyHash: string): Promise<SiteDocument | undefined>;
  /**
   * Replaces the given key digests and moves `updated_at`, which is what ingestion's poll of changed
   * sites looks at. False when no site has this id.
   */
  replaceKeyHashes(
    siteId: string,
    hashes: Partial<Pick<SiteDocument, 'write_key_hash' | 'read_key_hash'>>,
    updatedAt: Date,
  ): Promise<boolean>;
}

const DUPLICATE_KEY = 11000;

export function createSiteRepository(connection: mongoose.Connection): SiteRepository {
  const Site = getSiteModel(connection);
  return {
    async insert(site) {
      try {
        await boundedMongo(Site.collection.insertOne({ ...site }));
      } catch (error) {
        if ((error as { code?: unknown }).code === DUPLICATE_KEY) {
          throw new AppError('site-exists', `The site_id "${site.site_id}" is taken`, {
            status: 409,
            details: [{ field: 'site_id', message: 'is already registered' }],
          });
        }
        throw error;
      }
    },
    async findById(siteId) {
      const doc = await boundedMongo(
        Site.findOne({ site_id: siteId }).maxTimeMS(MONGO_OPERATION_TIMEOUT_MS).lean().exec(),
      );
      return doc ?? undefined;
    },
    async findByReadKeyHash(readKeyHash) {
      const doc = await boundedMongo(
        Site.findOne({ read_key_hash: readKeyHash }).maxTimeMS(MONGO_OPERATION_TIMEOUT_MS).lean().exec(),
      );
      return doc ?? undefined;
    },
    async replaceKeyHashes(siteId, hashes, updatedAt) {
      const result = await boundedMongo(
        Site.collection.updateOne(
          { site_id: siteId },
          { $set: { ...hashes, updated_at: updatedAt } },
          { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS },
        ),
      );
      return result.matchedCount === 1;
    },
  };
}
