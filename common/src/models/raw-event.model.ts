import mongoose from 'mongoose';
import type { DerivedEventFields } from '../queue/payloads';

/** A prop as stored: key and value are data, never field names (keys are user-supplied). */
export interface StoredProp {
  key: string;
  value: string | number | boolean;
}

/**
 * One accepted event, stored once per (site_id, event_id) whatever the number of deliveries, with what
 * ingestion derived for it (DerivedEventFields; absent on events accepted before enrichment).
 */
export interface RawEventDocument extends DerivedEventFields {
  site_id: string;
  event_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  referrer?: string;
  props?: StoredProp[];
  timestamp: Date;
  /** UTC hour and day bucket of `timestamp` (precomputed: the test engine cannot group on expressions). */
  hour: string;
  day: string;
  received_at: Date;
  request_id: string;
  /**
   * The write that stored this event (write-manifest.model.ts): its writer and sequence. Absent on events
   * stored before writes had manifests; those count as settled.
   */
  wt?: string;
  ws?: number;
  /**
   * Counted in the visit parts (visit-part.model.ts): `true` from the write that stored it. Absent on
   * events stored before visit parts existed; `false` while the visit backfill has taken it but not
   * counted it yet.
   */
  in_visits?: boolean;
}

export const RAW_EVENT_COLLECTION = 'events';

export const rawEventSchema = new mongoose.Schema<RawEventDocument>(
  {
    site_id: { type: String, required: true },
    event_id: { type: String, required: true },
    event_type: { type: String, required: true },
    path: String,
    user_id: String,
    referrer: String,
    visitor: String,
    device: String,
    browser: String,
    os: String,
    country: String,
    source: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    utm_term: String,
    utm_content: String,
    props: [{ _id: false, key: String, value: mongoose.Schema.Types.Mixed }],
    timestamp: { type: Date, required: true },
    hour: { type: String, required: true },
    day: { type: String, required: true },
    received_at: { type: Date, required: true },
    request_id: { type: String, required: true },
    wt: String,
    ws: Number,
    in_visits: Boolean,
  },
  { collection: RAW_EVENT_COLLECTION, versionKey: false },
);
// At-least-once delivery, exactly-once storage.
rawEventSchema.index({ site_id: 1, event_id: 1 }, { unique: true });
// Settling a write that stopped half-way reads its events back.
rawEventSchema.index({ wt: 1, ws: 1 }, { partialFilterExpression: { wt: { $exists: true } } });
// The visit backfill finds the events it took and has not counted yet.
rawEventSchema.index({ in_visits: 1 }, { partialFilterExpression: { in_visits: false } });
// Retention deletes by age.
rawEventSchema.index({ timestamp: 1 });
// Reporting's export: one site's events in (timestamp, event_id) order.
rawEventSchema.index({ site_id: 1, timestamp: 1, event_id: 1 });
// Reporting's per-user pages (newest first, ties by event_id) and the user-erasure job.
rawEventSchema.index({ site_id: 1, user_id: 1, timestamp: -1, event_id: 1 }, { sparse: true });

export type RawEventModel = mongoose.Model<RawEventDocument>;

export function getRawEventModel(connection: mongoose.Connection): RawEventModel {
  return (
    (connection.models.RawEvent as RawEventModel | undefined) ??
    connection.model<RawEventDocument>('RawEvent', rawEventSchema)
  );
}
