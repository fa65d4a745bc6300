import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricPointModel,
  getMetricWriteModel,
  getRawEventModel,
  getWriteManifestModel,
  MONGO_OPERATION_TIMEOUT_MS,
} from '@analytics/common';
import { getJobRunModel } from '../models/job-run.model';

/** Raw events and job runs get MongoDB's default ObjectId; write manifests a string of their own. */
type DocumentId = mongoose.Types.ObjectId | string;

/** Documents of one collection that can be deleted by age, a bounded batch at a time. */
export interface AgedDocuments {
  /** The collection, for logs. */
  collection: string;
  /** Ids of at most `limit` documents older than `cutoff`, oldest first. One indexed round trip. */
  findOldestIds(cutoff: Date, limit: number): Promise<DocumentId[]>;
  /**
   * Deletes those of `ids` that are still older than `cutoff` (the age filter is repeated, so a wrong id
   * can never remove a recent document). One round trip.
   */
  deleteIds(ids: DocumentId[], cutoff: Date): Promise<number>;
}

function agedDocuments(collection: mongoose.Collection, field: string): AgedDocuments {
  return {
    collection: collection.collectionName,
    async findOldestIds(cutoff, limit) {
      // The projection only saves bandwidth on MongoDB (the test engine ignores it); nothing relies on it.
      const docs = await boundedMongo(
        collection
          .find(
            { [field]: { $lt: cutoff } },
            { projection: { _id: 1 }, maxTimeMS: MONGO_OPERATION_TIMEOUT_MS },
          )
          .sort({ [field]: 1 })
          .limit(limit)
          .toArray(),
      );
      return docs.map((doc) => doc._id);
    },
    async deleteIds(ids, cutoff) {
      if (ids.length === 0) return 0;
      const result = await boundedMongo(
        // Untyped filter: the ids are ObjectIds or strings depending on the collection.
        collection.deleteMany({ _id: { $in: ids }, [field]: { $lt: cutoff } } as Record<string, unknown>, {
          maxTimeMS: MONGO_OPERATION_TIMEOUT_MS,
        }),
      );
      return result.deletedCount;
    },
  };
}

/** Raw events by their `timestamp` (indexed for this); rollups live elsewhere and are never touched. */
export function rawEventsByAge(connection: mongoose.Connection): AgedDocuments {
  return agedDocuments(getRawEventModel(connection).collection, 'timestamp');
}

/**
 * The processor's write manifests, by `created_at`. Kept as long as the raw events they describe (those
 * were stored no later than their manifest, so they are gone first): a resent event meets its write's
 * manifest, never a missing one.
 */
export function writeManifestsByAge(connection: mongoose.Connection): AgedDocuments {
  return agedDocuments(getWriteManifestModel(connection).collection, 'created_at');
}

/** Raw custom-metric points by their `timestamp`; metric rollups are never touched. */
export function metricPointsByAge(connection: mongoose.Connection): AgedDocuments {
  return agedDocuments(getMetricPointModel(connection).collection, 'timestamp');
}

/** The processor's metric write manifests, by `created_at` (as writeManifestsByAge). */
export function metricWritesByAge(connection: mongoose.Connection): AgedDocuments {
  return agedDocuments(getMetricWriteModel(connection).collection, 'created_at');
}

/** The cron service's own run history, by `started_at`. */
export function jobRunsByAge(connection: mongoose.Connection): AgedDocuments {
  return agedDocuments(getJobRunModel(connection).collection, 'started_at');
}
