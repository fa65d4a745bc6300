import mongoose from 'mongoose';
import type { StoredProp } from './raw-event.model';

/** One custom-metric point, stored once per (site_id, metric_id) whatever the number of deliveries. */
export interface MetricPointDocument {
  site_id: string;
  metric_id: string;
  name: string;
  value: number;
  timestamp: Date;
  /** Tags as key/value pairs (keys are user-supplied, so never field names). */
  tags?: StoredProp[];
  /** `tagPair(key, value)` of every tag: what `tag.<key>=<value>` filters match. */
  tag_pairs: string[];
  received_at: Date;
  request_id: string;
  /** The metric write that stored it (its writer and sequence), as for raw events. */
  wt: string;
  ws: number;
}

export const METRIC_POINT_COLLECTION = 'metric_points';

export const metricPointSchema = new mongoose.Schema<MetricPointDocument>(
  {
    site_id: { type: String, required: true },
    metric_id: { type: String, required: true },
    name: { type: String, required: true },
    value: { type: Number, required: true },
    timestamp: { type: Date, required: true },
    tags: [{ _id: false, key: String, value: mongoose.Schema.Types.Mixed }],
    tag_pairs: [String],
    received_at: { type: Date, required: true },
    request_id: { type: String, required: true },
    wt: { type: String, required: true },
    ws: { type: Number, required: true },
  },
  { collection: METRIC_POINT_COLLECTION, versionKey: false },
);
// At-least-once delivery, exactly-once storage.
metricPointSchema.index({ site_id: 1, metric_id: 1 }, { unique: true });
// Percentiles read one metric of one site over a time range.
metricPointSchema.index({ site_id: 1, name: 1, timestamp: 1 });
// Settling a write that stopped half-way reads its points back.
metricPointSchema.index({ wt: 1, ws: 1 });
// Retention deletes by age.
metricPointSchema.index({ timestamp: 1 });

export type MetricPointModel = mongoose.Model<MetricPointDocument>;

export function getMetricPointModel(connection: mongoose.Connection): MetricPointModel {
  return (
    (connection.models.MetricPoint as MetricPointModel | undefined) ??
    connection.model<MetricPointDocument>('MetricPoint', metricPointSchema)
  );
}

/** How a point is named in a metric write's `keys`. */
export function metricPointKey(siteId: string, metricId: string): string {
  return `${siteId}\u0000${metricId}`;
}
