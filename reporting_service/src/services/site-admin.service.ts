import { AppError } from '@analytics/common';
import type { SiteSettings } from '../repositories/site.repository';
import type { ListSitesInput, UpdateSiteInput } from '../validations/site.validation';
import { claimDomains, releaseUnlistedClaims } from './site-domain.service';
import { toSiteView, type SiteStores, type SiteView } from './site.service';

/** How often PATCH re-reads and retries when another change of the same site got in between. */
const UPDATE_ATTEMPTS = 3;

export async function getSite(stores: SiteStores, siteId: string): Promise<SiteView | undefined> {
  const site = await stores.sites.findById(siteId);
  return site && toSiteView(site);
}

export interface SiteList {
  sites: SiteView[];
  /** The `after` of the next page; null on the last page. */
  next_after: string | null;
}

/** One page of live sites in site_id order. */
export async function listSites(stores: SiteStores, input: ListSitesInput): Promise<SiteList> {
  // One more than asked tells whether another page follows.
  const found = await stores.sites.list(input.limit + 1, input.after);
  const page = found.slice(0, input.limit);
  return {
    sites: page.map(toSiteView),
    next_after: found.length > input.limit ? page[page.length - 1]!.site_id : null,
  };
}

/**
 * Changes a site's name, domains or timezone; undefined when there is no such site. New domains are
 * claimed before the site changes (409 if another site owns one); domains it no longer lists are given
 * back after. The change is a compare-and-set on the site's revision, so of two concurrent changes each
 * lands whole, one after the other, and claims never outlive the list that holds them.
 */
export async function updateSite(
  stores: SiteStores,
  siteId: string,
  input: UpdateSiteInput,
): Promise<SiteView | undefined> {
  for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt += 1) {
    const site = await stores.sites.findById(siteId);
    if (!site) return undefined;
    const now = new Date();
    const claimed = input.domains ? await claimDomains(stores, siteId, input.domains, now) : [];
    const settings: SiteSettings = {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.domains !== undefined && { domains: input.domains }),
      ...(input.timezone !== undefined && { timezone: input.timezone }),
    };
    if (!(await stores.sites.updateSettings(siteId, site.revision, settings, now))) {
      await releaseUnlistedClaims(stores, siteId, claimed);
      continue;
    }
    if (input.domains) {
      // A claim this change relied on may have been given back by a concurrent change that lost (it had
      // made the claim, then saw an older list): claiming again restores it.
      await stores.domains.claim(siteId, input.domains, now);
      const kept = new Set(input.domains);
      await stores.domains.release(
        siteId,
        (site.domains ?? []).filter((domain) => !kept.has(domain)),
      );
    }
    return toSiteView({ ...site, ...settings, updated_at: now });
  }
  throw new AppError('site-busy', 'The site kept changing during the update; send it again', {
    status: 409,
    details: [{ field: 'site_id', message: 'was changed by other requests at the same time' }],
  });
}

export interface DeletedSite {
  site_id: string;
  deleted_at: string;
}

/**
 * Deletes a site: at once for every reader (and for ingestion within SITE_REFRESH_INTERVAL_MS), its
 * domains free for other sites at once; the cron service's site-deletion job removes its data within a
 * minute. Undefined when there is no such site.
 */
export async function deleteSite(stores: SiteStores, siteId: string): Promise<DeletedSite | undefined> {
  const now = new Date();
  if (!(await stores.sites.markDeleted(siteId, now))) return undefined;
  // The site-deletion job releases them too, should this step not happen.
  await stores.domains.releaseAll(siteId);
  return { site_id: siteId, deleted_at: now.toISOString() };
}
