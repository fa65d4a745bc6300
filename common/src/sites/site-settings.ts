import { domainToASCII } from 'node:url';

/** How many host names one site may list in `domains`. */
export const SITE_DOMAINS_MAX = 20;

/** The zone of a site created without one. */
export const DEFAULT_SITE_TIMEZONE = 'Etc/UTC';

/** Characters that make a string a URL or a host with a port rather than a host name. */
const NOT_A_HOST = /[\s/\\:?#@[\]%*]/;
/** One DNS label after IDN conversion: letters, digits, inner hyphens; at most 63 characters. */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HOST_MAX_LENGTH = 253;

/**
 * The stored form of a host name: lower-case, IDN as punycode (node:url's `domainToASCII`), a trailing dot
 * and a leading `www.` removed. Undefined when `input` is not a host name (a URL, a port, an empty label,
 * a character no host may hold). Ingestion normalises referrer and tracker hosts the same way, so an exact
 * string match decides.
 */
export function normaliseDomain(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed === '' || NOT_A_HOST.test(trimmed)) return undefined;
  const ascii = domainToASCII(trimmed.replace(/\.$/, '').toLowerCase());
  if (ascii === '' || ascii.length > HOST_MAX_LENGTH) return undefined;
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  // `www.com` stays as it is: only a `www.` in front of a registrable name is the same site.
  return labels.length > 2 && labels[0] === 'www' ? labels.slice(1).join('.') : ascii;
}

/** An IANA zone name (`Area/City`, or an alias such as `UTC`, `US/Eastern`, `Etc/GMT+5`), never an offset. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

let supportedZones: ReadonlySet<string> | undefined;

/**
 * Whether `name` is a time zone this runtime knows: one of `Intl.supportedValuesOf('timeZone')`, `UTC`,
 * `Etc/UTC`, or another IANA name (an alias) that `Intl.DateTimeFormat` accepts. Offsets (`+05:30`) are
 * not zone names and are refused.
 */
export function isKnownTimeZone(name: string): boolean {
  supportedZones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
  if (supportedZones.has(name)) return true;
  if (!ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
