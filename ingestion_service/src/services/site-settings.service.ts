/**
 * The one place ingestion reads a site's time zone and domains from its in-memory site view
 * (SiteKeyCache's `timezoneOf` and `domainsOf`); for a site the view does not know, the defaults hold:
 * `Etc/UTC` and no domains. Tests may stub the view.
 */
export interface SiteSettingsView {
  /** The site's IANA zone, if the view knows one. */
  timezoneOf?(siteId: string): string | undefined;
  /** The site's host names, normalised as stored (lower-case, no `www.`), if the view knows them. */
  domainsOf?(siteId: string): readonly string[] | undefined;
}

export const DEFAULT_SITE_TIMEZONE = 'Etc/UTC';

export function siteTimezone(view: SiteSettingsView, siteId: string): string {
  return view.timezoneOf?.(siteId) ?? DEFAULT_SITE_TIMEZONE;
}

export function siteDomains(view: SiteSettingsView, siteId: string): readonly string[] {
  return view.domainsOf?.(siteId) ?? [];
}

/** The site view as a settings view: its methods are optional, so a view without them gives the defaults. */
export function siteSettingsOf(view: object): SiteSettingsView {
  return view as SiteSettingsView;
}
