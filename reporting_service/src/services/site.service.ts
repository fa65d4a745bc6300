import { randomBytes } from 'node:crypto';
import { AppError, DEFAULT_SITE_TIMEZONE, newSiteKeys, type SiteDocument } from '@analytics/common';
import type { SiteDomainRepository } from '../repositories/site-domain.repository';
import type { SiteRepository } from '../repositories/site.repository';
import type { CreateSiteInput, RotatableKeys } from '../validations/site.validation';
import { claimDomains, releaseUnlistedClaims } from './site-domain.service';

/** What the site services need: the sites and the domain claims. */
export interface SiteStores {
  sites: SiteRepository;
  domains: SiteDomainRepository;
}

/** A site as GET shows it: never its keys (not even their digests). */
export interface SiteView {
  site_id: string;
  name: string;
  domains: string[];
  timezone: string;
  created_at: string;
  updated_at: string;
}

export interface CreatedSite {
  site_id: string;
  name: string;
  domains: string[];
  timezone: string;
  write_key: string;
  read_key: string;
  created_at: string;
}

/** The public view of a stored site; sites stored before domains and zones existed read as none and UTC. */
export function toSiteView(site: SiteDocument): SiteView {
  return {
    site_id: site.site_id,
    name: site.name,
    domains: site.domains ?? [],
    timezone: site.timezone ?? DEFAULT_SITE_TIMEZONE,
    created_at: site.created_at.toISOString(),
    updated_at: site.updated_at.toISOString(),
  };
}

/** The 404 of an endpoint whose `site_id` names no site. */
export function siteNotFoundError(siteId: string): AppError {
  return new AppError('site-not-found', `No site "${siteId}"`, {
    status: 404,
    details: [{ field: 'site_id', message: 'is not a registered site' }],
  });
}

/** `site-` and 12 random base-36 characters: unguessable enough to list, short enough to type. */
function generateSiteId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return `site-${[...randomBytes(12)].map((byte) => alphabet[byte % 36]).join('')}`;
}

/**
 * Creates a site; the keys are returned this once and stored only as digests. Its domains are claimed
 * first (409 if another site owns one), then the site is stored (409 if its id is taken, and the claims
 * are given back).
 */
export async function createSite(stores: SiteStores, input: CreateSiteInput): Promise<CreatedSite> {
  const keys = newSiteKeys();
  const now = new Date();
  const siteId = input.site_id ?? generateSiteId();
  const claimed = await claimDomains(stores, siteId, input.domains, now);
  try {
    await stores.sites.insert({
      site_id: siteId,
      name: input.name,
      domains: input.domains,
      timezone: input.timezone,
      revision: 0,
      write_key_hash: keys.writeKeyHash,
      read_key_hash: keys.readKeyHash,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    await releaseUnlistedClaims(stores, siteId, claimed);
    throw error;
  }
  return {
    site_id: siteId,
    name: input.name,
    domains: input.domains,
    timezone: input.timezone,
    write_key: keys.writeKey,
    read_key: keys.readKey,
    created_at: now.toISOString(),
  };
}

export interface RotatedSiteKeys {
  site_id: string;
  /** Present when the write key was replaced. */
  write_key?: string;
  /** Present when the read key was replaced. */
  read_key?: string;
  rotated_at: string;
}

/**
 * Replaces a site's write key, read key or both. The new keys are returned this once; the old ones stop
 * working at once on reporting and within SITE_REFRESH_INTERVAL_MS on ingestion. Undefined when no site
 * has this id. Running it again just replaces the keys again, so it is also how lost keys are recovered.
 */
export async function rotateSiteKeys(
  repository: SiteRepository,
  siteId: string,
  which: RotatableKeys,
): Promise<RotatedSiteKeys | undefined> {
  const keys = newSiteKeys();
  const now = new Date();
  const write = which !== 'read';
  const read = which !== 'write';
  const found = await repository.replaceKeyHashes(
    siteId,
    {
      ...(write && { write_key_hash: keys.writeKeyHash }),
      ...(read && { read_key_hash: keys.readKeyHash }),
    },
    now,
  );
  if (!found) return undefined;
  return {
    site_id: siteId,
    ...(write && { write_key: keys.writeKey }),
    ...(read && { read_key: keys.readKey }),
    rotated_at: now.toISOString(),
  };
}
