import { createHash } from 'node:crypto';
import mongoose from 'mongoose';

export type UserErasureStatus = 'pending' | 'done';

/** What one pass of the user-erasure job removed or rewrote, summed over its passes. */
export interface UserErasureCounts {
  events: number;
  jobs_removed: number;
  jobs_rewritten: number;
  rollups: number;
  manifests: number;
  visit_parts: number;
}

/**
 * One `DELETE /users/:user_id` (written by reporting, carried out by cron's `user-erasure` job). The user
 * id and its pseudonym are kept only while the request is pending: the finished request holds the hash
 * alone, so nothing links the pseudonym back to the person.
 */
export interface UserErasureDocument {
  /** The request id answered with the 202. */
  _id: string;
  site_id: string;
  /** SHA-256 of site_id, NUL and user_id (userIdHash). */
  user_id_hash: string;
  user_id?: string;
  pseudonym?: string;
  status: UserErasureStatus;
  requested_at: Date;
  /** Who asked: the admin key (there is one), with the HTTP request id that asked. */
  requested_by: string;
  http_request_id: string;
  passes: number;
  last_pass_at?: Date;
  completed_at?: Date;
  counts: UserErasureCounts;
}

export const USER_ERASURE_COLLECTION = 'user_erasures';

export const userErasureSchema = new mongoose.Schema<UserErasureDocument>(
  {
    _id: { type: String, required: true },
    site_id: { type: String, required: true },
    user_id_hash: { type: String, required: true },
    user_id: String,
    pseudonym: String,
    status: { type: String, required: true, enum: ['pending', 'done'] },
    requested_at: { type: Date, required: true },
    requested_by: { type: String, required: true },
    http_request_id: { type: String, required: true },
    passes: { type: Number, required: true },
    last_pass_at: Date,
    completed_at: Date,
    counts: mongoose.Schema.Types.Mixed,
  },
  { collection: USER_ERASURE_COLLECTION, versionKey: false },
);
// The job's pending work, oldest first.
userErasureSchema.index({ status: 1, requested_at: 1 });
// One pending request per user of a site: concurrent DELETEs share it (one pseudonym for all the sets).
userErasureSchema.index(
  { site_id: 1, user_id_hash: 1 },
  { unique: true, partialFilterExpression: { status: 'pending' }, name: 'one_pending_per_user' },
);

export type UserErasureModel = mongoose.Model<UserErasureDocument>;

export function getUserErasureModel(connection: mongoose.Connection): UserErasureModel {
  return (
    (connection.models.UserErasure as UserErasureModel | undefined) ??
    connection.model<UserErasureDocument>('UserErasure', userErasureSchema)
  );
}

/** The user id as audit records and finished requests keep it: hashed with its site, never in clear. */
export function userIdHash(siteId: string, userId: string): string {
  return createHash('sha256').update(`${siteId}\u0000${userId}`).digest('hex');
}
