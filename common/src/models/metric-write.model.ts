import mongoose from 'mongoose';
import type { MetricPeriod } from '../custom-metrics/metric-buckets';
import type { SumLimbs } from '../custom-metrics/exact-sum';
import type { SketchBins } from '../custom-metrics/value-sketch';
import type { StoredProp } from './raw-event.model';

/** What one metric write owes one rollup. */
export interface MetricRollupDelta {
  rollup_id: string;
  site_id: string;
  name: string;
  period: MetricPeriod;
  bucket: string;
  tags: StoredProp[];
  tag_pairs: string[];
  count: number;
  s: SumLimbs;
  h: SketchBins;
  min: number;
  max: number;
}

/**
 * The manifest of one metric write (the same protocol as the event writes, write-manifest.model.ts):
 * fixed from the points that write stored before any rollup changes; the first one stored for a write is
 * the only one; applied once per rollup thanks to the writer's guard.
 */
export interface MetricWriteDocument {
  _id: string;
  writer: string;
  seq: number;
  keys: string[];
  deltas: MetricRollupDelta[];
  applied: boolean;
  created_at: Date;
}

export const METRIC_WRITE_COLLECTION = 'metric_writes';

export const metricWriteSchema = new mongoose.Schema<MetricWriteDocument>(
  {
    _id: { type: String, required: true },
    writer: { type: String, required: true },
    seq: { type: Number, required: true },
    keys: [String],
    deltas: [mongoose.Schema.Types.Mixed],
    applied: { type: Boolean, required: true },
    created_at: { type: Date, required: true },
  },
  { collection: METRIC_WRITE_COLLECTION, versionKey: false },
);
metricWriteSchema.index({ writer: 1, applied: 1, seq: 1 });
metricWriteSchema.index({ created_at: 1 });

export type MetricWriteModel = mongoose.Model<MetricWriteDocument>;

export function getMetricWriteModel(connection: mongoose.Connection): MetricWriteModel {
  return (
    (connection.models.MetricWrite as MetricWriteModel | undefined) ??
    connection.model<MetricWriteDocument>('MetricWrite', metricWriteSchema)
  );
}
