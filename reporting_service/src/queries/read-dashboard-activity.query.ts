import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricPointModel,
  getVisitPartModel,
  MONGO_OPERATION_TIMEOUT_MS,
  VISIT_BUCKET_MS,
  type MetricPointDocument,
  type VisitPartDocument,
} from '@analytics/common';

const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;

/**
 * Distinct visitors with an event timestamped in [from, to]: from the visit parts of the buckets that
 * overlap it, a part counting when its first or last event falls inside (events between a part's first
 * and last that are the only ones inside are not seen: only possible for events dated in the future).
 */
export async function readActiveVisitors(
  connection: mongoose.Connection,
  siteId: string,
  from: Date,
  to: Date,
): Promise<number> {
  const collection = getVisitPartModel(connection)
    .collection as unknown as mongoose.mongo.Collection<VisitPartDocument>;
  const parts = await boundedMongo(
    collection
      .find(
        { site_id: siteId, b: { $gte: new Date(from.getTime() - VISIT_BUCKET_MS), $lte: to } },
        { maxTimeMS },
      )
      .toArray(),
    maxTimeMS,
    'mongodb read active visitors',
  );
  const inside = (at: Date) => at >= from && at <= to;
  return new Set(parts.filter((p) => inside(p.ft) || inside(p.lt)).map((p) => p.visitor)).size;
}

/** How many metric names are looked at for the latest points (the most recent are taken among them). */
export const RECENT_METRIC_NAMES_SCANNED = 500;

/** The latest retained point of each of the `limit` most recently recorded metric names, newest first. */
export async function readRecentMetricPoints(
  connection: mongoose.Connection,
  siteId: string,
  limit: number,
): Promise<{ name: string; value: number; timestamp: Date }[]> {
  const collection = getMetricPointModel(connection)
    .collection as unknown as mongoose.mongo.Collection<MetricPointDocument>;
  const names = (
    await boundedMongo(
      collection.distinct('name', { site_id: siteId }, { maxTimeMS }),
      maxTimeMS,
      'mongodb read metric names',
    )
  ).slice(0, RECENT_METRIC_NAMES_SCANNED);
  const latest = await Promise.all(
    names.map((name) =>
      boundedMongo(
        collection.find({ site_id: siteId, name }, { maxTimeMS }).sort({ timestamp: -1 }).limit(1).toArray(),
        maxTimeMS,
        'mongodb read the latest metric point',
      ),
    ),
  );
  return latest
    .flat()
    .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || (a.name < b.name ? -1 : 1))
    .slice(0, limit)
    .map((p) => ({ name: p.name, value: p.value, timestamp: p.timestamp }));
}
