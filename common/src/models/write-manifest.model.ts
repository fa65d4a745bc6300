import mongoose from 'mongoose';
import type { RollupPeriod } from './rollup.model';
import type { VisitPartDocument } from './visit-part.model';

/** One page-view increment a write owes a view rollup. */
export interface ManifestViewDelta {
  /** The rollup document's id (rollupId.views). */
  rollup_id: string;
  site_id: string;
  period: RollupPeriod;
  bucket: string;
  path: string;
  views: number;
}

/** One user a write adds to an hour's or a day's user set. */
export interface ManifestUser {
  site_id: string;
  period: RollupPeriod;
  bucket: string;
  user_id: string;
}

/** What a write adds to one visit part: its events of that part (count, first, last). */
export type ManifestVisitPart = Omit<VisitPartDocument, 'w'>;

/**
 * What one processor write counts, fixed before any rollup changes (docs/architecture.md, "Exact
 * rollups"). The write is `writer`'s `seq`-th; its raw events carry the same pair (`wt`, `ws`). The first
 * manifest stored for a write is the only one: whoever settles the write (its writer, or another
 * processor adopting it after a crash) applies exactly these increments, guarded per rollup by the
 * writer's sequence, so they land once. `keys` lists the events it counts; an event of that write missing
 * from it (an insert that landed after the manifest) is counted by a later write instead.
 */
export interface WriteManifestDocument {
  _id: string;
  writer: string;
  seq: number;
  keys: string[];
  views: ManifestViewDelta[];
  users: ManifestUser[];
  /** Absent on manifests written before visit parts existed (their events are the backfill's). */
  visits?: ManifestVisitPart[];
  applied: boolean;
  created_at: Date;
}

export const WRITE_MANIFEST_COLLECTION = 'writes';

export const writeManifestSchema = new mongoose.Schema<WriteManifestDocument>(
  {
    _id: { type: String, required: true },
    writer: { type: String, required: true },
    seq: { type: Number, required: true },
    keys: [String],
    views: [mongoose.Schema.Types.Mixed],
    users: [mongoose.Schema.Types.Mixed],
    visits: { type: [mongoose.Schema.Types.Mixed], default: undefined },
    applied: { type: Boolean, required: true },
    created_at: { type: Date, required: true },
  },
  { collection: WRITE_MANIFEST_COLLECTION, versionKey: false },
);
// A writer's unapplied earlier writes, in order (they must land before a later one of the same writer).
writeManifestSchema.index({ writer: 1, applied: 1, seq: 1 });
// Retention removes old manifests with the raw events they describe.
writeManifestSchema.index({ created_at: 1 });

export type WriteManifestModel = mongoose.Model<WriteManifestDocument>;

export function getWriteManifestModel(connection: mongoose.Connection): WriteManifestModel {
  return (
    (connection.models.WriteManifest as WriteManifestModel | undefined) ??
    connection.model<WriteManifestDocument>('WriteManifest', writeManifestSchema)
  );
}

/** A write's identity: its writer (one per processor process) and that writer's sequence number. */
export interface WriteToken {
  writer: string;
  /** Strictly increasing per writer, and never below the wall-clock ms at which the write began. */
  seq: number;
}

/**
 * Writers that backfill visit parts for events stored before they existed (their views and users were
 * counted then): their writes owe visit parts only, whoever settles them.
 */
const BACKFILL_WRITER_PREFIX = 'backfill-';

export function backfillWriterId(random: string): string {
  return BACKFILL_WRITER_PREFIX + random;
}

export function isBackfillWriter(writer: string): boolean {
  return writer.startsWith(BACKFILL_WRITER_PREFIX);
}

export function writeTokenId(token: WriteToken): string {
  return `${token.writer}:${token.seq}`;
}

/** How an event is named in a manifest's `keys`. */
export function eventKey(siteId: string, eventId: string): string {
  return `${siteId}\u0000${eventId}`;
}

/** `eventKey` of a document or event. */
export function eventKeyOf(doc: { site_id: string; event_id: string }): string {
  return eventKey(doc.site_id, doc.event_id);
}
