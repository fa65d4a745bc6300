import mongoose from 'mongoose';

/** A prop as stored: key and value are data, never field names (keys are user-supplied). */
export interface StoredProp {
  key: string;
  value: string | number | boolean;
}

/** One accepted event, stored once per (site_id, event_id) whatever the number of deliveries. */
export interface RawEventDocument {
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
  /**
   * Page views only: `site|hour|path`, the one field the processor counts on to recount an hourly
   * path rollup (one field path to group by, and one index to count with).
   */
  hp_key?: string;
  received_at: Date;
  request_id: string;
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
    props: [{ _id: false, key: String, value: mongoose.Schema.Types.Mixed }],
    timestamp: { type: Date, required: true },
    hour: { type: String, required: true },
    day: { type: String, required: true },
    hp_key: String,
    received_at: { type: Date, required: true },
    request_id: { type: String, required: true },
  },
  { collection: RAW_EVENT_COLLECTION, versionKey: false },
);
// At-least-once delivery, exactly-once storage.
rawEventSchema.index({ site_id: 1, event_id: 1 }, { unique: true });
rawEventSchema.index({ hp_key: 1 }, { partialFilterExpression: { hp_key: { $exists: true } } });
// Retention deletes by age.
rawEventSchema.index({ timestamp: 1 });

export type RawEventModel = mongoose.Model<RawEventDocument>;

export function getRawEventModel(connection: mongoose.Connection): RawEventModel {
  return (
    (connection.models.RawEvent as RawEventModel | undefined) ??
    connection.model<RawEventDocument>('RawEvent', rawEventSchema)
  );
}

export function hourPathKey(siteId: string, hour: string, path: string): string {
  return `${siteId}|${hour}|${path}`;
}
