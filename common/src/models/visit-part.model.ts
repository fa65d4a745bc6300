import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import type { StoredProp } from './raw-event.model';

/** Every current UTC offset is a multiple of 15 minutes, so a 15-minute UTC bucket lies inside one local hour. */
export const VISIT_BUCKET_MS = 15 * 60_000;

/** A visit ends at a gap of 30 minutes or more between two of its visitor's events (contract). */
export const VISIT_GAP_MS = 30 * 60_000;

export function visitBucketOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / VISIT_BUCKET_MS) * VISIT_BUCKET_MS);
}

/** What a visit takes from its first event (ties: the smaller event_id). */
export interface VisitFields {
  source?: string;
  referrer?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
  device?: string;
  browser?: string;
  os?: string;
  country?: string;
}

export const VISIT_FIELD_NAMES = [
  'source',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'device',
  'browser',
  'os',
  'country',
] as const satisfies readonly (keyof VisitFields)[];

/**
 * The pre-aggregate every visitor and visit question is answered from: one visitor's events of one kind
 * (name, page, props) inside one 15-minute UTC bucket. It keeps their count and the first and last of them
 * (time, event_id), the first with its visit fields. Two events of one bucket are less than 30 minutes
 * apart, so a visitor's visits are exactly the runs of its parts whose gaps (next part's first event minus
 * the previous parts' last event) stay under 30 minutes: visits, entry and exit pages, bounces and
 * durations are rebuilt from parts at query time, whatever order the events arrived in. One document per
 * (bucket, value, visitor): nothing grows without bound (docs/architecture.md, "Visitors and visits").
 */
export interface VisitPartDocument {
  _id: string;
  site_id: string;
  /** `u:<user_id>` or `a:<daily keyed hash>` (payloads.ts). */
  visitor: string;
  /** Start of the 15-minute UTC bucket. */
  b: Date;
  /** The event type (`page_view` for page views). */
  name: string;
  page?: string;
  /** Sorted by key. */
  props?: StoredProp[];
  /** Events counted here; raised once per write (guard `w.<writer>`, as view rollups). */
  n: number;
  /** First event: time, event_id and its visit fields. */
  ft: Date;
  fi: string;
  f: VisitFields;
  /** Last event: time and event_id. */
  lt: Date;
  li: string;
  w?: Record<string, number>;
}

export const VISIT_PART_COLLECTION = 'visit_parts';

export const visitPartSchema = new mongoose.Schema<VisitPartDocument>(
  {
    _id: { type: String, required: true },
    site_id: { type: String, required: true },
    visitor: { type: String, required: true },
    b: { type: Date, required: true },
    name: { type: String, required: true },
    page: String,
    props: [{ _id: false, key: String, value: mongoose.Schema.Types.Mixed }],
    n: { type: Number, required: true },
    ft: { type: Date, required: true },
    fi: { type: String, required: true },
    f: mongoose.Schema.Types.Mixed,
    lt: { type: Date, required: true },
    li: { type: String, required: true },
    w: mongoose.Schema.Types.Mixed,
  },
  { collection: VISIT_PART_COLLECTION, versionKey: false },
);
// A query reads a site's buckets of a range; extending a visit past the range reads one visitor's.
visitPartSchema.index({ site_id: 1, b: 1 });
visitPartSchema.index({ site_id: 1, visitor: 1, b: 1 });

export type VisitPartModel = mongoose.Model<VisitPartDocument>;

export function getVisitPartModel(connection: mongoose.Connection): VisitPartModel {
  return (
    (connection.models.VisitPart as VisitPartModel | undefined) ??
    connection.model<VisitPartDocument>('VisitPart', visitPartSchema)
  );
}

/** Deterministic: the same (site, visitor, bucket, name, page, props) is always the same document. */
export function visitPartId(part: {
  site_id: string;
  visitor: string;
  b: Date;
  name: string;
  page?: string;
  props?: StoredProp[];
}): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        part.site_id,
        part.visitor,
        part.b.getTime(),
        part.name,
        part.page ?? null,
        (part.props ?? []).map((p) => [p.key, p.value]),
      ]),
    )
    .digest('base64url');
}
