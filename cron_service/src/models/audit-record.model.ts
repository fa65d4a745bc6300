import mongoose from 'mongoose';
import type { UserErasureCounts } from '@analytics/common';

/**
 * One administrative act on personal data, kept for accountability (collection `audit_log`). The user is
 * named only by `user_id_hash` (SHA-256 of site and user id): whoever knows a user id can check that it
 * was erased; nobody can read the id from the record.
 */
export interface AuditRecordDocument {
  /** `<action>:<request id>`: one record per request, however often the job finishes it. */
  _id: string;
  action: 'user-erasure';
  site_id: string;
  user_id_hash: string;
  /** Who asked (the admin key) and the HTTP request that asked. */
  requested_by: string;
  http_request_id: string;
  requested_at: Date;
  completed_at: Date;
  /** Which cron process finished it. */
  instance: string;
  counts: UserErasureCounts;
}

export const AUDIT_COLLECTION = 'audit_log';

export const auditRecordSchema = new mongoose.Schema<AuditRecordDocument>(
  {
    _id: { type: String, required: true },
    action: { type: String, required: true },
    site_id: { type: String, required: true },
    user_id_hash: { type: String, required: true },
    requested_by: { type: String, required: true },
    http_request_id: { type: String, required: true },
    requested_at: { type: Date, required: true },
    completed_at: { type: Date, required: true },
    instance: { type: String, required: true },
    counts: mongoose.Schema.Types.Mixed,
  },
  { collection: AUDIT_COLLECTION, versionKey: false },
);
auditRecordSchema.index({ site_id: 1, user_id_hash: 1 });

export type AuditRecordModel = mongoose.Model<AuditRecordDocument>;

export function getAuditRecordModel(connection: mongoose.Connection): AuditRecordModel {
  return (
    (connection.models.AuditRecord as AuditRecordModel | undefined) ??
    connection.model<AuditRecordDocument>('AuditRecord', auditRecordSchema)
  );
}
