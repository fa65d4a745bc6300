import type mongoose from 'mongoose';
import { DEFAULT_SITE_TIMEZONE, getSiteModel, MONGO_OPERATION_TIMEOUT_MS } from '@analytics/common';

export interface SiteKeyRecord {
  siteId: string;
  writeKeyHash: string;
  updatedAt: Date;
  /** Normalised host names (none for sites stored before domains existed). */
  domains: string[];
  /** IANA zone (`Etc/UTC` for sites stored before zones existed). */
  timezone: string;
  /** The site was deleted: its key must stop working. */
  deleted: boolean;
}

export interface SiteRepository {
  /** Sites created or changed at or after `since` (all sites without it). */
  findChangedSince(since?: Date): Promise<SiteKeyRecord[]>;
}

export function createSiteRepository(connection: mongoose.Connection): SiteRepository {
  const Site = getSiteModel(connection);
  return {
    async findChangedSince(since) {
      const docs = await Site.find(since ? { updated_at: { $gte: since } } : {})
        .maxTimeMS(MONGO_OPERATION_TIMEOUT_MS)
        .lean();
      return docs.map((doc) => ({
        siteId: doc.site_id,
        writeKeyHash: doc.write_key_hash,
        updatedAt: doc.updated_at,
        domains: doc.domains ?? [],
        timezone: doc.timezone ?? DEFAULT_SITE_TIMEZONE,
        deleted: doc.deleted_at !== undefined && doc.deleted_at !== null,
      }));
    },
  };
}
