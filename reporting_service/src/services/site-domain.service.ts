import { AppError, logger } from '@analytics/common';
import type { SiteDomainRepository } from '../repositories/site-domain.repository';
import type { SiteRepository } from '../repositories/site.repository';

/**
 * A claim older than this whose site does not exist was left by a create that died between claiming its
 * domains and storing the site; it may be taken over. (A create takes milliseconds between the two.)
 */
export const ORPHAN_CLAIM_AGE_MS = 60_000;

export interface DomainClaimDeps {
  sites: SiteRepository;
  domains: SiteDomainRepository;
}

/** The 409 of a domain another site owns; the other site is not named (it may belong to someone else). */
export function domainTakenError(taken: string[]): AppError {
  return new AppError('domain-taken', `The domain "${taken[0]}" belongs to another site`, {
    status: 409,
    details: taken.map((domain) => ({ field: 'domains', message: `${domain} belongs to another site` })),
  });
}

/**
 * Claims every one of `wanted` for `siteId`, or none: if another site owns one, the claims this call made
 * are released and a 409 is thrown. Returns the domains this call newly claimed, which the caller releases
 * should its own write fail.
 */
export async function claimDomains(
  deps: DomainClaimDeps,
  siteId: string,
  wanted: string[],
  now: Date,
): Promise<string[]> {
  let { inserted, owners } = await deps.domains.claim(siteId, wanted, now);
  const orphans = await findOrphanClaims(deps, siteId, owners, now);
  if (orphans.length > 0) {
    for (const orphan of orphans) await deps.domains.releaseIfUnchanged(orphan);
    logger.warn('orphan domain claims released', { domains: orphans.length });
    const retry = await deps.domains.claim(siteId, wanted, now);
    inserted = [...inserted, ...retry.inserted];
    owners = retry.owners;
  }
  const taken = owners.filter((owner) => owner.site_id !== siteId).map((owner) => owner._id);
  if (taken.length > 0) {
    await deps.domains.release(siteId, inserted);
    throw domainTakenError(taken);
  }
  return inserted;
}

async function findOrphanClaims(
  deps: DomainClaimDeps,
  siteId: string,
  owners: Awaited<ReturnType<SiteDomainRepository['claim']>>['owners'],
  now: Date,
) {
  const old = owners.filter(
    (owner) => owner.site_id !== siteId && now.getTime() - owner.claimed_at.getTime() >= ORPHAN_CLAIM_AGE_MS,
  );
  const orphans = [];
  for (const claim of old) {
    if ((await deps.sites.findById(claim.site_id)) === undefined) orphans.push(claim);
  }
  return orphans;
}

/**
 * After a write that lost (a taken site_id, a concurrent change), gives back the domains this call claimed
 * that the site as now stored does not list. Never throws: a claim left behind is an orphan that a later
 * claim takes over.
 */
export async function releaseUnlistedClaims(
  deps: DomainClaimDeps,
  siteId: string,
  inserted: string[],
): Promise<void> {
  if (inserted.length === 0) return;
  try {
    const listed = new Set((await deps.sites.findById(siteId))?.domains ?? []);
    await deps.domains.release(
      siteId,
      inserted.filter((domain) => !listed.has(domain)),
    );
  } catch (error) {
    logger.warn('domain claims not released; a later claim takes them over', { error: String(error) });
  }
}
