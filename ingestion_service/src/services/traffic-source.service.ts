/**
 * Where a visit came from, derived from the event's `referrer` and the query string of its `path`: pure
 * functions, no I/O. docs/api.md ("Derived fields") documents the same table and rules.
 */

export const DIRECT_SOURCE = 'Direct / None';

/** The UTM tags read from the query string of `path`, in the order the contract lists them. */
export const UTM_TAGS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
export type UtmTag = (typeof UTM_TAGS)[number];
export type UtmTags = Partial<Record<UtmTag, string>>;

/** A UTM value longer than this is cut: tags are labels, not payloads. */
export const UTM_VALUE_MAX_LENGTH = 256;

/**
 * Named sources: a referrer whose host (without `www.`) is one of these domains, or a subdomain of one,
 * gets the name. Google also under its country domains (google.de, google.co.uk, google.com.au).
 */
export const NAMED_SOURCES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Google: ['google.com'],
  Bing: ['bing.com'],
  DuckDuckGo: ['duckduckgo.com'],
  Yahoo: ['yahoo.com', 'search.yahoo.com'],
  Yandex: ['yandex.ru', 'yandex.com'],
  Baidu: ['baidu.com'],
  Ecosia: ['ecosia.org'],
  Twitter: ['t.co', 'twitter.com', 'x.com'],
  Facebook: ['facebook.com', 'fb.com', 'fb.me'],
  Instagram: ['instagram.com'],
  LinkedIn: ['linkedin.com', 'lnkd.in'],
  Reddit: ['reddit.com', 'redd.it'],
  YouTube: ['youtube.com', 'youtu.be'],
  GitHub: ['github.com'],
  'Hacker News': ['news.ycombinator.com'],
});

const SOURCE_BY_DOMAIN: ReadonlyMap<string, string> = new Map(
  Object.entries(NAMED_SOURCES).flatMap(([name, domains]) => domains.map((d) => [d, name] as const)),
);

/** google.<cc>, google.co.<cc>, google.com.<cc>, with any subdomain (www., news., ...). */
const GOOGLE_COUNTRY_HOST = /(^|\.)google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$/;

/** A host as sites' `domains` are stored: lower-case, without a leading `www.`. */
export function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('www.') ? lower.slice(4) : lower;
}

/** The referrer as parsed: its host (lower-case, punycode) and path; undefined when it is no URL. */
export interface ParsedReferrer {
  host: string;
  path: string;
}

export function parseReferrer(referrer: string | undefined): ParsedReferrer | undefined {
  if (referrer === undefined || referrer.trim() === '') return undefined;
  const text = referrer.trim();
  const url = parseUrl(text) ?? (/^[a-z][a-z0-9+.-]*:/i.test(text) ? undefined : parseUrl(`https://${text}`));
  if (!url || url.hostname === '') return undefined;
  return { host: url.hostname, path: url.pathname === '/' ? '' : url.pathname };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The stored `referrer`: host and path, without query and fragment. */
export function referrerText(parsed: ParsedReferrer): string {
  return parsed.host + parsed.path;
}

/** The named source of a host, else the host without `www.`. */
export function sourceOfHost(host: string): string {
  const bare = normaliseHost(host);
  if (GOOGLE_COUNTRY_HOST.test(bare)) return 'Google';
  for (let suffix = bare; ;) {
    const name = SOURCE_BY_DOMAIN.get(suffix);
    if (name !== undefined) return name;
    const dot = suffix.indexOf('.');
    if (dot === -1) return bare;
    suffix = suffix.slice(dot + 1);
  }
}

/** `utm_*` tags from the query string of a path as the client sent it; empty values are left out. */
export function utmTagsOfPath(path: string | undefined): UtmTags {
  const tags: UtmTags = {};
  if (path === undefined) return tags;
  const fragment = path.indexOf('#');
  const beforeFragment = fragment === -1 ? path : path.slice(0, fragment);
  const start = beforeFragment.indexOf('?');
  if (start === -1) return tags;
  const query = beforeFragment.slice(start + 1);
  if (!query.includes('utm_')) return tags;
  const params = new URLSearchParams(query);
  for (const tag of UTM_TAGS) {
    const value = params.get(tag)?.trim();
    if (value) tags[tag] = value.slice(0, UTM_VALUE_MAX_LENGTH);
  }
  return tags;
}

export interface TrafficSource {
  /** Absent when there is none, it is not a URL, or it is the site's own (a self-referral). */
  referrer?: string;
  source: string;
}

/**
 * `utm_source` as sent wins; else no referrer or a self-referral (a host of `siteDomains`, already
 * normalised) is `Direct / None`; else the named source or the referrer's host without `www.`.
 */
export function trafficSourceOf(
  referrer: string | undefined,
  utm: UtmTags,
  siteDomains: readonly string[],
): TrafficSource {
  const parsed = parseReferrer(referrer);
  const selfReferral = parsed !== undefined && siteDomains.includes(normaliseHost(parsed.host));
  const external = parsed && !selfReferral ? parsed : undefined;
  const source = utm.utm_source ?? (external ? sourceOfHost(external.host) : DIRECT_SOURCE);
  return external ? { referrer: referrerText(external), source } : { source };
}
