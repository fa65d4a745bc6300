import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { PropValue, TrackedEvent } from '@analytics/common';
import type { IntakeEvent } from '../services/event-enrichment.service';
import { UTM_TAGS, type UtmTag } from '../services/traffic-source.service';
import {
  canonicalEventType,
  EVENT_LIMITS,
  EVENT_TYPE_PATTERN,
  statisticPath,
  type EventContextInput,
} from '../validations/event-fields.validation';

/**
 * What the protocol mappings share (Segment, Plausible, Umami): the rules every foreign message is
 * brought under before it joins the intake, so its events are stored exactly like POST /event's.
 */

/** An event as a mapping produced it, before it belongs to a site. */
export interface ForeignEvent {
  event_type: string;
  /** The path as statistics see it (no query; a fragment only for hash routing). */
  path?: string;
  /** The path with its query, as the client sent it: the UTM tags come from here. */
  rawPath?: string;
  user_id?: string;
  referrer?: string;
  props?: Record<string, PropValue>;
  context?: EventContextInput;
  /** Segment's `anonymousId`: names the anonymous visitor instead of the IP and user agent. */
  clientVisitorId?: string;
  /** Absent: a random id (the event cannot be recognised when resent). */
  event_id?: string;
  /** ISO-8601 UTC; absent: the request's arrival. */
  timestamp?: string;
}

/** A message that cannot become an event, with the reason the client is told. */
export interface Unmappable {
  reason: string;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string as is, a finite number as its decimal text; anything else (and '') undefined. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A foreign event name as an `event_type` (`pageview` stays an alias of `page_view`), or why not. */
export function foreignEventType(name: unknown): string | Unmappable {
  if (typeof name !== 'string' || name.trim() === '') return { reason: 'the event has no name' };
  // The same rule as POST /event's event_type (contract Part 2, "Events, widened").
  if (!EVENT_TYPE_PATTERN.test(name))
    return { reason: 'the event name must be 1-120 printable characters, without control characters' };
  return canonicalEventType(name);
}

export interface ForeignPath {
  /** The statistic path (query and fragment cut, or the fragment kept for hash routing). */
  path: string;
  /** With the query string, for the UTM tags. */
  rawPath: string;
}

/**
 * A path (`/a?b`) or an absolute http(s) URL as a page path; `keepFragment` keeps the fragment in the
 * statistic path (Plausible's hash-based routing). Undefined when it is neither, or too long.
 */
export function foreignPath(urlOrPath: string, keepFragment = false): ForeignPath | undefined {
  let pathname: string;
  let search: string;
  let hash: string;
  if (urlOrPath.startsWith('/') && !urlOrPath.startsWith('//')) {
    const fragmentAt = urlOrPath.indexOf('#');
    const beforeFragment = fragmentAt === -1 ? urlOrPath : urlOrPath.slice(0, fragmentAt);
    hash = fragmentAt === -1 ? '' : urlOrPath.slice(fragmentAt);
    const queryAt = beforeFragment.indexOf('?');
    pathname = queryAt === -1 ? beforeFragment : beforeFragment.slice(0, queryAt);
    search = queryAt === -1 ? '' : beforeFragment.slice(queryAt);
  } else {
    let url: URL;
    try {
      url = new URL(urlOrPath);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    ({ pathname, search, hash } = url);
  }
  const path = statisticPath(pathname + hash, keepFragment);
  if (path.length > EVENT_LIMITS.pathMaxLength) return undefined;
  return { path, rawPath: pathname + search };
}

/** A referrer as sent, if it is a string within the limit (a longer one is ignored, not refused). */
export function foreignReferrer(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= EVENT_LIMITS.referrerMaxLength ? value : undefined;
}

/** The end user's IP (when it is one) and user agent (when within the limit) from a foreign context. */
export function foreignContext(ip: unknown, userAgent: unknown): EventContextInput | undefined {
  const context: EventContextInput = {};
  if (typeof ip === 'string' && isIP(ip) !== 0) context.ip = ip;
  if (
    typeof userAgent === 'string' &&
    userAgent !== '' &&
    userAgent.length <= EVENT_LIMITS.contextUserAgentMaxLength
  ) {
    context.user_agent = userAgent;
  }
  return context.ip === undefined && context.user_agent === undefined ? undefined : context;
}

export interface CappedProps {
  props?: Record<string, PropValue>;
  /** Props left out: not scalar, a key or string too long, or beyond the 20 kept. */
  dropped: number;
}

function isPropValue(value: unknown): value is PropValue {
  if (typeof value === 'string') return value.length <= EVENT_LIMITS.propStringMaxLength;
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'boolean';
}

/**
 * Foreign properties as props: sorted by key (code-point order), scalar values only, at most 20 kept;
 * everything else is dropped and counted. A value that is not an object at all counts as one dropped.
 */
export function capProps(value: unknown): CappedProps {
  if (value === undefined || value === null) return { dropped: 0 };
  if (!isPlainObject(value)) return { dropped: 1 };
  const props: Record<string, PropValue> = {};
  let kept = 0;
  let dropped = 0;
  for (const key of Object.keys(value).sort()) {
    const propValue = value[key];
    const usable =
      key !== '__proto__' &&
      key.length <= EVENT_LIMITS.propKeyMaxLength &&
      key !== '' &&
      isPropValue(propValue);
    if (usable && kept < EVENT_LIMITS.propsMaxKeys) {
      // defineProperty: a key such as `constructor` stays an own data property
      Object.defineProperty(props, key, { value: propValue, enumerable: true, writable: true });
      kept += 1;
    } else {
      dropped += 1;
    }
  }
  return kept > 0 ? { props, dropped } : { dropped };
}

/** UTM tags (Segment's `context.campaign`) joined to a raw path's query, unless the query has them. */
export function withUtmTags(
  rawPath: string | undefined,
  tags: Partial<Record<UtmTag, string>>,
): string | undefined {
  const entries = UTM_TAGS.flatMap((tag) => (tags[tag] ? [[tag, tags[tag]] as [string, string]] : []));
  if (entries.length === 0) return rawPath;
  const base = rawPath ?? '/';
  const query = base.includes('?') ? base.slice(base.indexOf('?') + 1) : '';
  const present = new URLSearchParams(query);
  const missing = entries.filter(([tag]) => !present.has(tag));
  if (missing.length === 0) return base;
  const added = new URLSearchParams(missing).toString();
  return base.includes('?') ? `${base}&${added}` : `${base}?${added}`;
}

/** The event the intake enriches and enqueues, now that its site is known. */
export function toIntakeEvent(siteId: string, foreign: ForeignEvent, receivedAt: Date): IntakeEvent {
  const event: TrackedEvent = {
    site_id: siteId,
    event_id: foreign.event_id ?? randomUUID(),
    event_type: foreign.event_type,
    timestamp: foreign.timestamp ?? receivedAt.toISOString(),
  };
  if (foreign.path !== undefined) event.path = foreign.path;
  if (foreign.user_id !== undefined) event.user_id = foreign.user_id;
  if (foreign.props !== undefined) event.props = foreign.props;
  const intake: IntakeEvent = { event, path: foreign.rawPath, referrer: foreign.referrer };
  if (foreign.context !== undefined) intake.context = foreign.context;
  if (foreign.clientVisitorId !== undefined && foreign.user_id === undefined) {
    intake.clientVisitorId = foreign.clientVisitorId;
  }
  return intake;
}
