import { randomUUID } from 'node:crypto';
import { userIdHash, type UserErasureDocument } from '@analytics/common';
import type { UserErasureRepository } from '../repositories/user-erasure.repository';
import type { SiteRepository } from '../repositories/site.repository';
import { siteNotFoundError } from './site.service';

/** What `DELETE /users/:user_id` and `GET /user-erasures/:request_id` show of a request: never the user id. */
export interface UserErasureView {
  request_id: string;
  site_id: string;
  status: UserErasureDocument['status'];
  requested_at: string;
  completed_at: string | null;
  passes: number;
  counts: UserErasureDocument['counts'];
  status_url: string;
}

export function toUserErasureView(doc: UserErasureDocument): UserErasureView {
  return {
    request_id: doc._id,
    site_id: doc.site_id,
    status: doc.status,
    requested_at: doc.requested_at.toISOString(),
    completed_at: doc.completed_at?.toISOString() ?? null,
    passes: doc.passes,
    counts: doc.counts,
    status_url: `/user-erasures/${doc._id}`,
  };
}

/**
 * Records an erasure for cron's `user-erasure` job, with the random pseudonym it will put in the user's
 * place (chosen once, so every pass of the job writes the same one). A request for a user who already has
 * one pending is that request (idempotent).
 */
export async function requestUserErasure(
  stores: { sites: SiteRepository; erasures: UserErasureRepository },
  siteId: string,
  userId: string,
  httpRequestId: string,
  now: Date = new Date(),
): Promise<UserErasureView> {
  const site = await stores.sites.findById(siteId);
  if (!site) throw siteNotFoundError(siteId);
  const hash = userIdHash(siteId, userId);
  const pending = await stores.erasures.findPending(siteId, hash);
  if (pending) return toUserErasureView(pending);
  const request: UserErasureDocument = {
    _id: randomUUID(),
    site_id: siteId,
    user_id_hash: hash,
    user_id: userId,
    pseudonym: `erased:${randomUUID()}`,
    status: 'pending',
    requested_at: now,
    requested_by: 'admin-key',
    http_request_id: httpRequestId,
    passes: 0,
    counts: { events: 0, jobs_removed: 0, jobs_rewritten: 0, rollups: 0, manifests: 0, visit_parts: 0 },
  };
  if (await stores.erasures.insert(request)) return toUserErasureView(request);
  // A concurrent DELETE of the same user stored its request first: that one is ours too.
  const winner = await stores.erasures.findPending(siteId, hash);
  if (!winner) throw new Error('erasure request neither stored nor found');
  return toUserErasureView(winner);
}
