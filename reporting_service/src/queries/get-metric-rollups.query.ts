import type mongoose from 'mongoose';
import {
  boundedMongo,
  getMetricRollupModel,
  MONGO_OPERATION_TIMEOUT_MS,
  tagPair,
  type MetricPeriod,
  type MetricRollupDocument,
} from '@analytics/common';

/** Buckets per read: keeps each `$in` small whatever the range. */
const BUCKETS_PER_READ = 2000;

/** Tag filters as equality on one element of `tag_pairs` each, all of which must hold. */
export function tagFilter(tags: readonly { key: string; value: string }[]): Record<string, unknown> {
  if (tags.length === 0) return {};
  return { $and: tags.map(({ key, value }) => ({ tag_pairs: tagPair(key, value) })) };
}

/** The filter of one read: one site, one name, one period, some buckets, the tag filters. Pure. */
export function buildMetricRollupFilter(input: {
  siteId: string;
  name: string;
  period: MetricPeriod;
  buckets: readonly string[];
  tags: readonly { key: string; value: string }[];
}): Record<string, unknown> {
  return {
    site_id: input.siteId,
    name: input.name,
    period: input.period,
    bucket: { $in: [...input.buckets] },
    ...tagFilter(input.tags),
  };
}

/**
 * The rollups of one metric over the given buckets of each period, every tag set that matches the
 * filters. The documents read grow with buckets × tag sets, never with the number of points.
 */
export async function getMetricRollups(
  mongo: mongoose.Connection,
  query: {
    siteId: string;
    name: string;
    buckets: ReadonlyMap<MetricPeriod, readonly string[]>;
    tags: readonly { key: string; value: string }[];
  },
): Promise<MetricRollupDocument[]> {
  const collection = getMetricRollupModel(mongo)
    .collection as unknown as mongoose.mongo.Collection<MetricRollupDocument>;
  const maxTimeMS = MONGO_OPERATION_TIMEOUT_MS;
  const wanted = query.tags.map(({ key, value }) => tagPair(key, value));
  const found: MetricRollupDocument[] = [];
  for (const [period, buckets] of query.buckets) {
    for (let i = 0; i < buckets.length; i += BUCKETS_PER_READ) {
      const filter = buildMetricRollupFilter({
        ...query,
        period,
        buckets: buckets.slice(i, i + BUCKETS_PER_READ),
      });
      const docs = await boundedMongo(
        collection.find(filter, { maxTimeMS }).toArray(),
        maxTimeMS,
        'mongodb read metric rollups',
      );
      // The filter already holds on MongoDB; checked again so that no engine gap can widen an answer.
      for (const doc of docs) if (wanted.every((pair) => doc.tag_pairs?.includes(pair))) found.push(doc);
    }
  }
  return found;
}
