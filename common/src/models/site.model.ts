import mongoose from 'mongoose';

/** A registered website. Keys are stored as SHA-256 digests only (see keys.ts). */
export interface SiteDocument {
  site_id: string;
  name: string;
  write_key_hash: string;
  read_key_hash: string;
  created_at: Date;
  updated_at: Date;
  /** Normalised host names (site-settings.ts); absent on sites created before domains existed. */
  domains?: string[];
  /** IANA zone; absent means `Etc/UTC`. */
  timezone?: string;
  /** Grows with every change of name, domains or timezone: the compare-and-set of PATCH. */
  revision?: number;
  /**
   * Set by DELETE /sites/:site_id: the site is gone for every reader at once, and the cron service's
   * `site-deletion` job removes its data, then this document (docs/architecture.md, "Deleting a site").
   */
  deleted_at?: Date;
}

export const SITE_COLLECTION = 'sites';

export const siteSchema = new mongoose.Schema<SiteDocument>(
  {
    site_id: { type: String, required: true },
    name: { type: String, required: true },
    write_key_hash: { type: String, required: true },
    read_key_hash: { type: String, required: true },
    created_at: { type: Date, required: true },
    updated_at: { type: Date, required: true },
    domains: { type: [String], default: undefined },
    timezone: { type: String },
    revision: { type: Number },
    deleted_at: { type: Date },
  },
  { collection: SITE_COLLECTION, versionKey: false, strict: 'throw' },
);
siteSchema.index({ site_id: 1 }, { unique: true });
// Reporting finds the site a read key belongs to (to tell 401 from 403).
siteSchema.index({ read_key_hash: 1 });
// Ingestion polls for sites changed since its last look.
siteSchema.index({ updated_at: 1 });
// The site-deletion job finds the sites waiting for their data to be removed.
siteSchema.index({ deleted_at: 1 }, { sparse: true });

export type SiteModel = mongoose.Model<SiteDocument>;

export function getSiteModel(connection: mongoose.Connection): SiteModel {
  return (
    (connection.models.Site as SiteModel | undefined) ?? connection.model<SiteDocument>('Site', siteSchema)
  );
}
