import mongoose from 'mongoose';

/**
 * One host name claimed by one site: the `_id` is the normalised host, so MongoDB's unique `_id` keeps a
 * domain to a single site even under concurrent requests. (A unique index on the `sites.domains` array
 * would do on MongoDB, but the test engine indexes an array as one value, so it could not be proven here.)
 * The site document's `domains` mirrors its claims.
 */
export interface SiteDomainDocument {
  _id: string;
  site_id: string;
  claimed_at: Date;
}

export const SITE_DOMAIN_COLLECTION = 'site_domains';

export const siteDomainSchema = new mongoose.Schema<SiteDomainDocument>(
  {
    _id: { type: String, required: true },
    site_id: { type: String, required: true },
    claimed_at: { type: Date, required: true },
  },
  { collection: SITE_DOMAIN_COLLECTION, versionKey: false, strict: 'throw' },
);
// A site's claims, to list or release them.
siteDomainSchema.index({ site_id: 1 });

export type SiteDomainModel = mongoose.Model<SiteDomainDocument>;

export function getSiteDomainModel(connection: mongoose.Connection): SiteDomainModel {
  return (
    (connection.models.SiteDomain as SiteDomainModel | undefined) ??
    connection.model<SiteDomainDocument>('SiteDomain', siteDomainSchema)
  );
}
