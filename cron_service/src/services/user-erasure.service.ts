import type { UserErasureCounts, UserErasureDocument } from '@analytics/common';
import type { QueuePurgeResult } from '../repositories/event-queue.repository';
import type { UserDataRepository } from '../repositories/user-data.repository';

export interface ErasurePassOptions {
  batchSize: number;
  signal: AbortSignal;
  /** Takes the user's events out of the events queue (waiting, failed and other inactive jobs). */
  purgeJobs: (siteId: string, userId: string) => Promise<QueuePurgeResult>;
  /** Called after each batch with the number of documents it removed or rewrote. */
  onBatch: (count: number) => void;
}

export function emptyErasureCounts(): UserErasureCounts {
  return { events: 0, jobs_removed: 0, jobs_rewritten: 0, rollups: 0, manifests: 0, visit_parts: 0 };
}

export function addErasureCounts(a: UserErasureCounts, b: UserErasureCounts): UserErasureCounts {
  const sum = emptyErasureCounts();
  for (const key of Object.keys(sum) as (keyof UserErasureCounts)[]) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return sum;
}

/**
 * One pass over everything that holds the user: the queue first (so fewer of their events get stored
 * meanwhile), then raw events, then every stored set moves to the pseudonym — the 'users' rollups, the
 * write manifests (so a manifest applied later writes the pseudonym) and the visit parts. Each set keeps
 * one element per bucket under the same pseudonym, so every distinct count stays what it was. Safe to
 * repeat: a later pass finds less or nothing.
 */
export async function runErasurePass(
  repository: UserDataRepository,
  request: UserErasureDocument,
  options: ErasurePassOptions,
): Promise<UserErasureCounts> {
  const { site_id: siteId, user_id: userId, pseudonym } = request;
  if (userId === undefined || pseudonym === undefined)
    throw new Error('a pending erasure without its user id');
  const counts = emptyErasureCounts();
  const jobs = await options.purgeJobs(siteId, userId);
  counts.jobs_removed = jobs.removed;
  counts.jobs_rewritten = jobs.rewritten;

  const batched = async (step: () => Promise<number>, key: keyof UserErasureCounts): Promise<void> => {
    for (;;) {
      options.signal.throwIfAborted();
      const count = await step();
      counts[key] += count;
      if (count > 0) options.onBatch(count);
      if (count < options.batchSize) return;
    }
  };
  await batched(() => repository.deleteEventBatch(siteId, userId, options.batchSize), 'events');
  await batched(
    () => repository.pseudonymiseRollupBatch(siteId, userId, pseudonym, options.batchSize),
    'rollups',
  );
  await batched(
    () => repository.pseudonymiseManifestBatch(siteId, userId, pseudonym, options.batchSize),
    'manifests',
  );
  counts.visit_parts = await repository.pseudonymiseVisitParts(siteId, userId, pseudonym);
  return counts;
}

/**
 * Whether a request has had its last pass: it is at least `settleMs` old (events already queued or in a
 * worker's hands when it was made are stored by then, and removed by a pass) and this pass began after
 * that moment.
 */
export function isErasureSettled(
  request: UserErasureDocument,
  passStartedAt: Date,
  settleMs: number,
): boolean {
  return passStartedAt.getTime() - request.requested_at.getTime() >= settleMs;
}
