import mongoose from 'mongoose';

export type RollupPeriod = 'H' | 'D';
export type RollupKind = 'views' | 'users';

/**
 * The pre-aggregated state /stats reads, in one collection so one `$facet` answers every figure:
 * - kind 'views': page views of one path in one hour ('H') or day ('D');
 * - kind 'users': one user seen in one hour or day (a set element, so unique users are exact for any
 *   range: the distinct user ids over the range's buckets, never a sum of per-bucket counts).
 * Paths and user ids are values, never field names.
 */
export interface RollupDocument {
  _id: string;
  kind: RollupKind;
  site_id: string;
  period: RollupPeriod;
  bucket: string;
  path?: string;
  views?: number;
  user_id?: string;
  /** Hourly view rollups written before writes had manifests: `site|day|path` (no longer read). */
  dp_key?: string;
  /**
   * View rollups: per processor writer, the sequence of the last write of it applied here. A write's
   * increment lands only above it, so settling a write twice counts it once (write-manifest.model.ts).
   */
  w?: Record<string, number>;
}

export const ROLLUP_COLLECTION = 'rollups';

export const rollupSchema = new mongoose.Schema<RollupDocument>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true, enum: ['views', 'users'] },
    site_id: { type: String, required: true },
    period: { type: String, required: true, enum: ['H', 'D'] },
    bucket: { type: String, required: true },
    path: String,
    views: Number,
    user_id: String,
    dp_key: String,
    w: mongoose.Schema.Types.Mixed,
  },
  { collection: ROLLUP_COLLECTION, versionKey: false },
);
rollupSchema.index({ site_id: 1, period: 1, bucket: 1, kind: 1 });

export type RollupModel = mongoose.Model<RollupDocument>;

export function getRollupModel(connection: mongoose.Connection): RollupModel {
  return (
    (connection.models.Rollup as RollupModel | undefined) ??
    connection.model<RollupDocument>('Rollup', rollupSchema)
  );
}

/** Deterministic ids: the same rollup is always the same document, whoever writes it. */
export const rollupId = {
  views: (period: RollupPeriod, siteId: string, bucket: string, path: string) =>
    `v|${period}|${siteId}|${bucket}|${path}`,
  users: (period: RollupPeriod, siteId: string, bucket: string, userId: string) =>
    `u|${period}|${siteId}|${bucket}|${userId}`,
};
