import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import type { MetricPeriod } from '../custom-metrics/metric-buckets';
import type { SumLimbs } from '../custom-metrics/exact-sum';
import type { SketchBins } from '../custom-metrics/value-sketch';
import type { StoredProp } from './raw-event.model';

/**
 * The points of one metric name and one exact tag set in one UTC bucket (metric-buckets.ts): how many,
 * their exact sum as limbs (exact-sum.ts), their smallest and largest value, and a sketch of their values
 * (value-sketch.ts) for percentiles once the raw points are gone. Counters change only through a metric
 * write's manifest, guarded per writer (`w`), as the event rollups do; `min`/`max` change by conditional
 * `$set`, which is idempotent by itself.
 */
export interface MetricRollupDocument {
  _id: string;
  site_id: string;
  name: string;
  period: MetricPeriod;
  bucket: string;
  tags: StoredProp[];
  tag_pairs: string[];
  count: number;
  /** Limb index → signed integer. */
  s?: SumLimbs;
  /** Sketch bin → count. */
  h?: SketchBins;
  min?: number;
  max?: number;
  /** Per writer, the sequence of its last write applied here. */
  w?: Record<string, number>;
}

export const METRIC_ROLLUP_COLLECTION = 'metric_rollups';

export const metricRollupSchema = new mongoose.Schema<MetricRollupDocument>(
  {
    _id: { type: String, required: true },
    site_id: { type: String, required: true },
    name: { type: String, required: true },
    period: { type: String, required: true, enum: ['m', 'q', 'h', 'd'] },
    bucket: { type: String, required: true },
    tags: [{ _id: false, key: String, value: mongoose.Schema.Types.Mixed }],
    tag_pairs: [String],
    count: { type: Number, required: true },
    s: mongoose.Schema.Types.Mixed,
    h: mongoose.Schema.Types.Mixed,
    min: Number,
    max: Number,
    w: mongoose.Schema.Types.Mixed,
  },
  { collection: METRIC_ROLLUP_COLLECTION, versionKey: false },
);
// GET /metrics/query: one site, one name, one period, a set of buckets.
metricRollupSchema.index({ site_id: 1, name: 1, period: 1, bucket: 1 });

export type MetricRollupModel = mongoose.Model<MetricRollupDocument>;

export function getMetricRollupModel(connection: mongoose.Connection): MetricRollupModel {
  return (
    (connection.models.MetricRollup as MetricRollupModel | undefined) ??
    connection.model<MetricRollupDocument>('MetricRollup', metricRollupSchema)
  );
}

/**
 * Deterministic id: the same rollup is always the same document. Name and tag set are hashed, so the id
 * stays short whatever they hold.
 */
export function metricRollupId(
  period: MetricPeriod,
  siteId: string,
  bucket: string,
  name: string,
  tagSet: string,
): string {
  const digest = createHash('sha256').update(`${name}\u0000${tagSet}`).digest('base64url');
  return `${period}|${siteId}|${bucket}|${digest}`;
}
