import { normaliseDomain, PAGE_VIEW, type ErrorDetail } from '@analytics/common';
import {
  capProps,
  foreignEventType,
  foreignPath,
  foreignReferrer,
  isPlainObject,
  type ForeignEvent,
} from './foreign-event.mapping';

/**
 * Plausible's events API (`POST /api/event`, docs/clients.md): the long field names of its API and the
 * one-letter ones its script sends. Pure.
 */

/** Long name → the one-letter name Plausible's script uses for it. */
const FIELD_ALIASES = Object.freeze({ name: 'n', url: 'u', domain: 'd', referrer: 'r', props: 'p' });

/** Plausible's own name for the events its script sends while a page stays open (scroll, time). */
export const PLAUSIBLE_ENGAGEMENT = 'engagement';

export type PlausibleMapping =
  | {
      kind: 'event';
      /** The normalised hosts of `domain`, in order: the first one a site lists decides. */
      domains: string[];
      event: ForeignEvent;
      propsDropped: number;
    }
  | { kind: 'engagement'; domains: string[] }
  | { kind: 'invalid'; details: ErrorDetail[] };

function field(body: Record<string, unknown>, name: keyof typeof FIELD_ALIASES): unknown {
  return body[name] ?? body[FIELD_ALIASES[name]];
}

/** An object, or a JSON string of one (Plausible's legacy `m` and older `p`); anything else undefined. */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (isPlainObject(value)) return value;
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `domain`: one host or a comma-separated list (a page that reports to several sites). */
export function plausibleDomains(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value.split(',').flatMap((part) => {
    const domain = normaliseDomain(part);
    return domain === undefined ? [] : [domain];
  });
}

export function mapPlausibleEvent(body: unknown): PlausibleMapping {
  if (!isPlainObject(body)) {
    return { kind: 'invalid', details: [{ field: 'body', message: 'body must be a JSON object' }] };
  }
  const details: ErrorDetail[] = [];
  const domains = plausibleDomains(field(body, 'domain'));
  if (domains.length === 0) {
    details.push({ field: 'domain', message: 'domain must be a host name, or several separated by commas' });
  }
  const name = field(body, 'name');
  const eventType = foreignEventType(name);
  if (typeof eventType !== 'string') details.push({ field: 'name', message: eventType.reason });
  const url = field(body, 'url');
  const hashRouting = body.h === 1 || body.h === true || body.h === '1';
  const path = typeof url === 'string' ? foreignPath(url, hashRouting) : undefined;
  if (path === undefined) {
    details.push({ field: 'url', message: 'url must be an http(s) URL (or a path starting with /)' });
  }
  if (details.length > 0 || typeof eventType !== 'string' || path === undefined) {
    return { kind: 'invalid', details };
  }
  if (name === PLAUSIBLE_ENGAGEMENT) return { kind: 'engagement', domains };

  // legacy `m` (meta, a JSON string) first, then `p`/`props`: the newer field wins a shared key
  const merged = { ...objectOf(body.m), ...objectOf(field(body, 'props')) };
  const { props, dropped } = capProps(Object.keys(merged).length > 0 ? merged : undefined);
  const event: ForeignEvent = {
    event_type: name === 'pageview' ? PAGE_VIEW : eventType,
    path: path.path,
    rawPath: path.rawPath,
  };
  const referrer = foreignReferrer(field(body, 'referrer'));
  if (referrer !== undefined && referrer !== '') event.referrer = referrer;
  if (props) event.props = props;
  return { kind: 'event', domains, event, propsDropped: dropped };
}
