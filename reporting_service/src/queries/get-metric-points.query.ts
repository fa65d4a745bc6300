import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricPointModel,
  MONGO_OPERATION_TIMEOUT_MS,
  tagPair,
  type MetricPointDocument,
} from '@analytics/common';
import { tagFilter } from './get-metric-rollups.query';

/** The filter of the raw points of one metric in `[startMs, endMs)`. Pure. */
export function buildMetricPointFilter(input: {
  siteId: string;
  name: string;
  startMs: number;
  endMs: number;
  tags: readonly { key: string; value: string }[];
}): Record<string, unknown> {
  return {
    site_id: input.siteId,
    name: input.name,
    timestamp: { $gte: new Date(input.startMs), $lt: new Date(input.endMs) },
    ...tagFilter(input.tags),
  };
}

/**
 * The retained raw points of one metric in a range (time and value), for exact percentiles; at most
 * `limit` (the caller answers from the rollups' sketches beyond it). Undefined when there are more.
 */
export async function getMetricPoints(
  mongo: mongoose.Connection,
  query: {
    siteId: string;
    name: string;
    startMs: number;
    endMs: number;
    tags: readonly { key: string; value: string }[];
  },
  limit: number,
): Promise<{ at: number; value: number }[] | undefined> {
  const collection = getMetricPointModel(mongo)
    .collection as unknown as mongoose.mongo.Collection<MetricPointDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  const wanted = query.tags.map(({ key, value }) => tagPair(key, value));
  const docs = await boundedMongo(
    collection
      .find(buildMetricPointFilter(query), {
        maxTimeMS,
        projection: { timestamp: 1, value: 1, tag_pairs: 1 },
      })
      .limit(limit + 1)
      .toArray(),
    maxTimeMS,
    'mongodb read metric points',
  );
  if (docs.length > limit) return undefined;
  return docs
    .filter((doc) => wanted.every((pair) => doc.tag_pairs?.includes(pair)))
    .map((doc) => ({ at: doc.timestamp.getTime(), value: doc.value }));
}
