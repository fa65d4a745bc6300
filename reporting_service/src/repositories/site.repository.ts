import type mongoose from 'mongoose';
import {
  AppError,
  boundedMongo,
  getSiteModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type SiteDocument,
} from '@analytics/common';

/** The settings PATCH may change, as stored. */
export type SiteSettings = Partial<Pick<SiteDocument, 'name' | 'domains' | 'timezone'>>;

/**
 * Every read and change here sees live sites only: a site marked deleted is gone for every reader at
 * once, while the cron service removes its data.
 */
export interface SiteRepository {
  /** Inserts a site; a taken site_id (also one being deleted) is a 409 AppError. */
  insert(site: SiteDocument): Promise<void>;
  findById(siteId: string): Promise<SiteDocument | undefined>;
  findByReadKeyHash(readKeyHash: string): Promise<SiteDocument | undefined>;
  /** At most `limit` sites in site_id order, after `afterSiteId` when given. */
  list(limit: number, afterSiteId?: string): Promise<SiteDocument[]>;
  /**
   * Replaces the given key digests and moves `updated_at`, which is what ingestion's poll of changed
   * sites looks at. False when no site has this id.
   */
  replaceKeyHashes(
    siteId: string,
    hashes: Partial<Pick<SiteDocument, 'write_key_hash' | 'read_key_hash'>>,
    updatedAt: Date,
  ): Promise<boolean>;
  /**
   * Sets `settings` only if the site is still at `revision` (compare-and-set), moving the revision and
   * `updated_at`. False when the site changed (or went) since it was read.
   */
  updateSettings(
    siteId: string,
    revision: number | undefined,
    settings: SiteSettings,
    updatedAt: Date,
  ): Promise<boolean>;
  /** Marks the site deleted (moving `updated_at`, so ingestion's poll drops it). False when there is none. */
  markDeleted(siteId: string, deletedAt: Date): Promise<boolean>;
}

const DUPLICATE_KEY = 11000;
const LIVE = { deleted_at: { $exists: false } };

export function createSiteRepository(connection: mongoose.Connection): SiteRepository {
  const Site = getSiteModel(connection);
  const findOneLive = async (filter: Record<string, unknown>): Promise<SiteDocument | undefined> => {
    const doc = await boundedMongo(
      Site.findOne({ ...filter, ...LIVE })
        .maxTimeMS(MONGO_OPERATION_TIMEOUT_MS)
        .lean<SiteDocument>()
        .exec(),
    );
    return doc ?? undefined;
  };
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
    findById: (siteId) => findOneLive({ site_id: siteId }),
    findByReadKeyHash: (readKeyHash) => findOneLive({ read_key_hash: readKeyHash }),
    async list(limit, afterSiteId) {
      const filter = afterSiteId === undefined ? LIVE : { ...LIVE, site_id: { $gt: afterSiteId } };
      return boundedMongo(
        Site.find(filter)
          .sort({ site_id: 1 })
          .limit(limit)
          .maxTimeMS(MONGO_OPERATION_TIMEOUT_MS)
          .lean<SiteDocument[]>()
          .exec(),
      );
    },
    async replaceKeyHashes(siteId, hashes, updatedAt) {
      const result = await boundedMongo(
        Site.collection.updateOne(
          { site_id: siteId, ...LIVE },
          { $set: { ...hashes, updated_at: updatedAt } },
          { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS },
        ),
      );
      return result.matchedCount === 1;
    },
    async updateSettings(siteId, revision, settings, updatedAt) {
      const result = await boundedMongo(
        Site.collection.updateOne(
          { site_id: siteId, ...LIVE, revision: revision ?? { $exists: false } },
          { $set: { ...settings, revision: (revision ?? 0) + 1, updated_at: updatedAt } },
          { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS },
        ),
      );
      return result.matchedCount === 1;
    },
    async markDeleted(siteId, deletedAt) {
      const result = await boundedMongo(
        Site.collection.updateOne(
          { site_id: siteId, ...LIVE },
          { $set: { deleted_at: deletedAt, updated_at: deletedAt } },
          { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS },
        ),
      );
      return result.matchedCount === 1;
    },
  };
}
