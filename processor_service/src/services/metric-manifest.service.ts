import {
  addBins,
  addLimbs,
  bucketsOf,
  limbsOf,
  metricRollupId,
  sketchBinOf,
  tagSetKey,
  writeTokenId,
  type MetricPointDocument,
  type MetricRollupDelta,
  type MetricWriteDocument,
  type StoredProp,
  type WriteToken,
} from '@analytics/common';
import { keyOfPoint } from '../repositories/metric-point.repository';

function tagsRecord(tags: StoredProp[] | undefined): Record<string, string | number | boolean> | undefined {
  if (!tags || tags.length === 0) return undefined;
  return Object.fromEntries(tags.map((t) => [t.key, t.value]));
}

/**
 * What a metric write owes the rollups, from the points it stored: per name × tag set × bucket (one per
 * period: minute, quarter hour, hour, day; metric-buckets.ts) the count, the exact sum as limbs, the
 * sketch bins, the minimum and the maximum. Pure.
 */
export function buildMetricManifest(
  token: WriteToken,
  points: readonly MetricPointDocument[],
): MetricWriteDocument {
  const deltas = new Map<string, MetricRollupDelta>();
  for (const point of points) {
    const tagSet = tagSetKey(tagsRecord(point.tags));
    for (const { period, bucket } of bucketsOf(point.timestamp.getTime())) {
      const rollupId = metricRollupId(period, point.site_id, bucket, point.name, tagSet);
      let delta = deltas.get(rollupId);
      if (!delta) {
        delta = {
          rollup_id: rollupId,
          site_id: point.site_id,
          name: point.name,
          period,
          bucket,
          tags: point.tags ?? [],
          tag_pairs: point.tag_pairs,
          count: 0,
          s: {},
          h: {},
          min: point.value,
          max: point.value,
        };
        deltas.set(rollupId, delta);
      }
      delta.count += 1;
      addLimbs(delta.s, limbsOf(point.value));
      addBins(delta.h, { [sketchBinOf(point.value)]: 1 });
      if (point.value < delta.min) delta.min = point.value;
      if (point.value > delta.max) delta.max = point.value;
    }
  }
  return {
    _id: writeTokenId(token),
    writer: token.writer,
    seq: token.seq,
    keys: points.map(keyOfPoint),
    deltas: [...deltas.values()],
    applied: false,
    created_at: new Date(),
  };
}
