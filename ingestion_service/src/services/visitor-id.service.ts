import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { ANONYMOUS_VISITOR_PREFIX } from '@analytics/common';

/** Bytes of the HMAC kept in an anonymous id: 128 bits, base64url (22 characters). */
const VISITOR_HASH_BYTES = 16;

/**
 * The anonymous visitor: HMAC-SHA-256, keyed by the salt of the event's date in the site's zone, of the
 * site, the client IP and the user agent. Without the salt the IP cannot be recovered or tested for.
 */
export function anonymousVisitor(salt: string, siteId: string, ip: string, userAgent: string): string {
  const digest = createHmac('sha256', salt)
    .update(`${siteId}\u0000${canonicalIp(ip)}\u0000${userAgent}`)
    .digest();
  return ANONYMOUS_VISITOR_PREFIX + digest.subarray(0, VISITOR_HASH_BYTES).toString('base64url');
}

/**
 * The anonymous visitor of an event whose client names its visitor (Segment's `anonymousId`): the name
 * stands in for the IP and user agent, under the same date's salt, so it is as daily as any anonymous
 * visitor. The leading U+0001 (never the first character of a site id) keeps these inputs apart from
 * anonymousVisitor's.
 */
export function anonymousVisitorOfClientId(salt: string, siteId: string, clientId: string): string {
  const digest = createHmac('sha256', salt).update(`\u0001${siteId}\u0000${clientId}`).digest();
  return ANONYMOUS_VISITOR_PREFIX + digest.subarray(0, VISITOR_HASH_BYTES).toString('base64url');
}

/**
 * Address groups whose rate-limit key is remembered: an HMAC costs about 10 µs (a `createHmac` per
 * request was 7 % of `POST /event`'s CPU in the profile), and a client sends many requests a day. Bounded:
 * when full the memo starts again, so a scan of addresses cannot grow it.
 */
const MEMO_MAX_ADDRESS_KEYS = 10_000;
const addressKeys = new Map<string, string>();

/** The key of the per-address rate limit: a keyed hash of the address group, never the address. */
export function addressRateLimitKey(salt: string, addressGroup: string): string {
  // The salt is part of the memo's key, so a new day's salt never meets the previous day's keys.
  const memoKey = `${salt}\u0000${addressGroup}`;
  let key = addressKeys.get(memoKey);
  if (key === undefined) {
    key = createHmac('sha256', salt)
      .update(`rate-limit\u0000${addressGroup}`)
      .digest()
      .subarray(0, VISITOR_HASH_BYTES)
      .toString('base64url');
    if (addressKeys.size >= MEMO_MAX_ADDRESS_KEYS) addressKeys.clear();
    addressKeys.set(memoKey, key);
  }
  return key;
}

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 lower-case and compressed. */
export function canonicalIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7);
  if (isIPv6(ip)) return new URL(`http://[${ip}]`).hostname.slice(1, -1);
  return ip;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** Every UTC offset in use is a multiple of 15 minutes, so a zone's date is constant within such a slot. */
const SLOT_MS = 15 * 60_000;
const MEMO_MAX_SLOTS = 10_000;
const dateBySlot = new Map<string, string>();

/** The calendar date (YYYY-MM-DD) of an instant in an IANA zone; an unknown zone counts as UTC. */
export function calendarDate(at: Date, timeZone: string): string {
  const slot = `${timeZone} ${Math.floor(at.getTime() / SLOT_MS)}`;
  let date = dateBySlot.get(slot);
  if (date === undefined) {
    date = formatDate(at, timeZone);
    if (dateBySlot.size >= MEMO_MAX_SLOTS) dateBySlot.clear();
    dateBySlot.set(slot, date);
  }
  return date;
}

function formatDate(at: Date, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      });
    } catch {
      return at.toISOString().slice(0, 10);
    }
    dateFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}
