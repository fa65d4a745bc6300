import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricPointModel,
  getMetricRollupModel,
  getMetricWriteModel,
  getRawEventModel,
  getRollupModel,
  getSiteDomainModel,
  getSiteModel,
  getVisitPartModel,
  getWriteManifestModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type MetricWriteDocument,
  type WriteManifestDocument,
} from '@analytics/common';

/** A site marked deleted by reporting, waiting for its data to be removed. */
export interface DeletedSite {
  siteId: string;
  deletedAt: Date;
}

/** What the site-deletion job reads and removes; every operation is one bounded round trip. */
export interface SiteDataRepository {
  /** At most `limit` sites marked deleted, the longest waiting first. */
  findDeletedSites(limit: number): Promise<DeletedSite[]>;
  /** Deletes at most `limit` raw events of the site; the number deleted. */
  deleteEventBatch(siteId: string, limit: number): Promise<number>;
  /**
   * Deletes at most `limit` pre-aggregated documents of the site: rollups (view counters and user set
   * elements), then visit parts.
   */
  deleteRollupBatch(siteId: string, limit: number): Promise<number>;
  /**
   * At most `limit` write manifests that mention the site, in `_id` order after `afterId`. A manifest may
   * mention other sites too; the caller decides which to remove.
   */
  findManifestsMentioning(
    siteId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<WriteManifestDocument[]>;
  deleteManifests(ids: string[]): Promise<number>;
  /** Deletes at most `limit` raw custom-metric points of the site. */
  deleteMetricPointBatch(siteId: string, limit: number): Promise<number>;
  /** Deletes at most `limit` custom-metric rollups of the site. */
  deleteMetricRollupBatch(siteId: string, limit: number): Promise<number>;
  /** As findManifestsMentioning, for the metric writes (`metric_writes`). */
  findMetricWritesMentioning(
    siteId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<MetricWriteDocument[]>;
  deleteMetricWrites(ids: string[]): Promise<number>;
  releaseDomains(siteId: string): Promise<void>;
  /** Removes the site document itself, only if it is still this deletion (same mark). */
  removeSite(site: DeletedSite): Promise<boolean>;
}

export function createSiteDataRepository(connection: mongoose.Connection): SiteDataRepository {
  const sites = getSiteModel(connection).collection;
  const events = getRawEventModel(connection).collection;
  const rollups = getRollupModel(connection).collection as unknown as mongoose.mongo.Collection<{
    _id: string;
  }>;
  const manifests = getWriteManifestModel(connection)
    .collection as unknown as mongoose.mongo.Collection<WriteManifestDocument>;
  const domains = getSiteDomainModel(connection).collection;
  const visitParts = getVisitPartModel(connection).collection as unknown as mongoose.mongo.Collection<{
    _id: unknown;
  }>;
  const metricPoints = getMetricPointModel(connection).collection;
  const metricRollups = getMetricRollupModel(connection).collection;
  const metricWrites = getMetricWriteModel(connection)
    .collection as unknown as mongoose.mongo.Collection<MetricWriteDocument>;
  const options = { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS };

  /** Finds a batch of ids by site, then deletes exactly those (still of that site): one bounded statement. */
  async function deleteBatch(
    collection: mongoose.mongo.Collection<{ _id: unknown }>,
    siteId: string,
    limit: number,
  ): Promise<number> {
    const docs = await boundedMongo(collection.find({ site_id: siteId }, options).limit(limit).toArray());
    if (docs.length === 0) return 0;
    const result = await boundedMongo(
      collection.deleteMany({ _id: { $in: docs.map((doc) => doc._id) }, site_id: siteId }, options),
    );
    return result.deletedCount;
  }

  return {
    async findDeletedSites(limit) {
      const docs = await boundedMongo(
        sites
          .find({ deleted_at: { $exists: true } }, options)
          .sort({ deleted_at: 1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map((doc) => ({ siteId: doc.site_id as string, deletedAt: doc.deleted_at as Date }));
    },
    deleteEventBatch: (siteId, limit) =>
      deleteBatch(events as unknown as mongoose.mongo.Collection<{ _id: unknown }>, siteId, limit),
    async deleteRollupBatch(siteId, limit) {
      const rollupsDeleted = await deleteBatch(
        rollups as unknown as mongoose.mongo.Collection<{ _id: unknown }>,
        siteId,
        limit,
      );
      return rollupsDeleted > 0 ? rollupsDeleted : deleteBatch(visitParts, siteId, limit);
    },
    async findManifestsMentioning(siteId, afterId, limit) {
      const mentions = {
        $or: [
          { views: { $elemMatch: { site_id: siteId } } },
          { users: { $elemMatch: { site_id: siteId } } },
          { visits: { $elemMatch: { site_id: siteId } } },
        ],
      };
      const filter = afterId === undefined ? mentions : { ...mentions, _id: { $gt: afterId } };
      return boundedMongo(manifests.find(filter, options).sort({ _id: 1 }).limit(limit).toArray());
    },
    async deleteManifests(ids) {
      if (ids.length === 0) return 0;
      const result = await boundedMongo(manifests.deleteMany({ _id: { $in: ids } }, options));
      return result.deletedCount;
    },
    deleteMetricPointBatch: (siteId, limit) =>
      deleteBatch(metricPoints as unknown as mongoose.mongo.Collection<{ _id: unknown }>, siteId, limit),
    deleteMetricRollupBatch: (siteId, limit) =>
      deleteBatch(metricRollups as unknown as mongoose.mongo.Collection<{ _id: unknown }>, siteId, limit),
    async findMetricWritesMentioning(siteId, afterId, limit) {
      const mentions = { deltas: { $elemMatch: { site_id: siteId } } };
      const filter = afterId === undefined ? mentions : { ...mentions, _id: { $gt: afterId } };
      return boundedMongo(metricWrites.find(filter, options).sort({ _id: 1 }).limit(limit).toArray());
    },
    async deleteMetricWrites(ids) {
      if (ids.length === 0) return 0;
      const result = await boundedMongo(metricWrites.deleteMany({ _id: { $in: ids } }, options));
      return result.deletedCount;
    },
    async releaseDomains(siteId) {
      await boundedMongo(domains.deleteMany({ site_id: siteId }, options));
    },
    async removeSite(site) {
      const result = await boundedMongo(
        sites.deleteOne({ site_id: site.siteId, deleted_at: site.deletedAt }, options),
      );
      return result.deletedCount === 1;
    },
  };
}
