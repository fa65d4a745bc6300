import mongoose from 'mongoose';

/** A registered website. Keys are stored as SHA-256 digests only (see keys.ts). */
export interface SiteDocument {
  site_id: string;
  name: string;
  write_key_hash: string;
  read_key_hash: string;
  created_at: Date;
  updated_at: Date;
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
  },
  { collection: SITE_COLLECTION, versionKey: false, strict: 'throw' },
);
siteSchema.index({ site_id: 1 }, { unique: true });
// Reporting finds the site a read key belongs to (to tell 401 from 403).
siteSchema.index({ read_key_hash: 1 });
// Ingestion polls for sites changed since its last look.
siteSchema.index({ updated_at: 1 });

export type SiteModel = mongoose.Model<SiteDocument>;

export function getSiteModel(connection: mongoose.Connection): SiteModel {
  return (
    (connection.models.Site as SiteModel | undefined) ?? connection.model<SiteDocument>('Site', siteSchema)
  );
}
