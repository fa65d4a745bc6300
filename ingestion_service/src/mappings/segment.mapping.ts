import { createHash } from 'node:crypto';
import { PAGE_VIEW } from '@analytics/common';
import type { UtmTag } from '../services/traffic-source.service';
import { EVENT_LIMITS } from '../validations/event-fields.validation';
import { parseIsoTimestamp } from '../validations/timestamp.validation';
import {
  capProps,
  foreignContext,
  foreignEventType,
  foreignPath,
  foreignReferrer,
  isPlainObject,
  textOf,
  withUtmTags,
  type ForeignEvent,
  type Unmappable,
} from './foreign-event.mapping';

/**
 * Segment's HTTP tracking API (docs/clients.md): one message → at most one event. Pure: the clock and
 * the batch's own fields come in as arguments.
 */

export const SEGMENT_TYPES = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

/** Types that record no event (they describe a user or a group, not something that happened). */
const NO_EVENT_TYPES: ReadonlySet<string> = new Set<SegmentType>(['identify', 'group', 'alias']);

/** A whole request above this is refused (400), as Segment's API does. */
export const SEGMENT_REQUEST_MAX_BYTES = 500 * 1024;
/** A message above this is dropped and listed, as Segment's API does. */
export const SEGMENT_MESSAGE_MAX_BYTES = 32 * 1024;

/** Prefix of the event ids derived from `messageId`s. */
export const SEGMENT_EVENT_ID_PREFIX = 'sg_';

/** Segment's `context.campaign` keys → the UTM tags. */
const CAMPAIGN_TAGS: Readonly<Record<string, UtmTag>> = Object.freeze({
  source: 'utm_source',
  medium: 'utm_medium',
  name: 'utm_campaign',
  term: 'utm_term',
  content: 'utm_content',
});

/**
 * The event id of a Segment `messageId` (any length, any characters): `sg_` and the SHA-256 of the
 * message id, base64url (46 characters of the native alphabet). The same message id of a site is the
 * same event, however often it is resent; a native `event_id` meets it only if a client sends this exact
 * digest on purpose.
 */
export function segmentEventId(messageId: string): string {
  return (
    SEGMENT_EVENT_ID_PREFIX + createHash('sha256').update(`segment\u0000${messageId}`).digest('base64url')
  );
}

export interface SegmentMessageOptions {
  /** The endpoint's type (`/v1/track` …); for `/v1/batch` each message's own `type`. */
  endpointType?: SegmentType;
  /** The batch's `sentAt` and `context` (a message's own win). */
  batchSentAt?: unknown;
  batchContext?: unknown;
  receivedAt: Date;
  maxAgeMs: number;
}

export type SegmentMapping =
  | { kind: 'event'; event: ForeignEvent; propsDropped: number }
  | { kind: 'no-event' }
  | ({ kind: 'unmappable' } & Unmappable);

function unmappable(reason: string): SegmentMapping {
  return { kind: 'unmappable', reason };
}

/**
 * The time of a message, as Segment computes it: `timestamp` when sent; else `originalTimestamp`
 * corrected by the client's clock skew (`receivedAt - (sentAt - originalTimestamp)`); else the arrival.
 */
export function segmentTime(
  message: Record<string, unknown>,
  batchSentAt: unknown,
  receivedAt: Date,
): number | Unmappable {
  const parse = (field: string, value: unknown): number | Unmappable | undefined => {
    if (value === undefined || value === null) return undefined;
    const at = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
    return at ?? { reason: `${field} is not an ISO-8601 date-time with Z or an offset` };
  };
  const timestamp = parse('timestamp', message.timestamp);
  if (timestamp !== undefined) return timestamp;
  const original = parse('originalTimestamp', message.originalTimestamp);
  if (original === undefined) return receivedAt.getTime();
  if (typeof original !== 'number') return original;
  const sentAt = parse('sentAt', message.sentAt ?? batchSentAt);
  if (sentAt === undefined) return original;
  if (typeof sentAt !== 'number') return sentAt;
  return receivedAt.getTime() - (sentAt - original);
}

function windowProblem(at: number, receivedAt: Date, maxAgeMs: number): string | undefined {
  if (at > receivedAt.getTime() + EVENT_LIMITS.futureToleranceMs) {
    return 'the time is more than 5 minutes in the future';
  }
  if (at < receivedAt.getTime() - maxAgeMs) {
    return `the time is older than the accepted age of ${maxAgeMs / 3_600_000} hours`;
  }
  return undefined;
}

function pagePath(properties: Record<string, unknown>, page: Record<string, unknown>) {
  const candidates: [string, unknown][] = [
    ['properties.path', properties.path],
    ['context.page.path', page.path],
    ['properties.url', properties.url],
  ];
  const found = candidates.find(([, value]) => typeof value === 'string' && value !== '');
  if (!found)
    return { reason: 'a page without a path (properties.path, context.page.path or properties.url)' };
  const [field, value] = found as [string, string];
  const path =
    field === 'properties.url' ? foreignPath(value) : value.startsWith('/') ? foreignPath(value) : undefined;
  return (
    path ?? { reason: `${field} is not a path starting with / (at most 2048 characters) or an http(s) URL` }
  );
}

/** One Segment message → an event, nothing (identify, group, alias), or the reason it cannot be mapped. */
export function mapSegmentMessage(message: unknown, options: SegmentMessageOptions): SegmentMapping {
  if (!isPlainObject(message)) return unmappable('the message is not a JSON object');
  const type = options.endpointType ?? message.type;
  if (typeof type !== 'string' || !(SEGMENT_TYPES as readonly string[]).includes(type)) {
    return unmappable(`type must be one of ${SEGMENT_TYPES.join(', ')}`);
  }
  if (NO_EVENT_TYPES.has(type)) return { kind: 'no-event' };

  const userId = textOf(message.userId);
  const anonymousId = textOf(message.anonymousId);
  if (userId === undefined && anonymousId === undefined) return unmappable('neither userId nor anonymousId');
  if (userId !== undefined && userId.length > EVENT_LIMITS.userIdMaxLength) {
    return unmappable(`userId is longer than ${EVENT_LIMITS.userIdMaxLength} characters`);
  }

  const at = segmentTime(message, options.batchSentAt, options.receivedAt);
  if (typeof at !== 'number') return unmappable(at.reason);
  const late = windowProblem(at, options.receivedAt, options.maxAgeMs);
  if (late) return unmappable(late);

  const context = {
    ...(isPlainObject(options.batchContext) ? options.batchContext : {}),
    ...(isPlainObject(message.context) ? message.context : {}),
  };
  const page = isPlainObject(context.page) ? context.page : {};
  const properties = isPlainObject(message.properties) ? message.properties : {};

  let eventType: string;
  let path: { path: string; rawPath: string } | undefined;
  if (type === 'track') {
    const name = foreignEventType(message.event);
    if (typeof name !== 'string') return unmappable(name.reason);
    eventType = name;
    // where it happened, when the client says (analytics.js does): optional, ignored when malformed
    path = typeof page.path === 'string' && page.path.startsWith('/') ? foreignPath(page.path) : undefined;
  } else if (type === 'page') {
    const found = pagePath(properties, page);
    if ('reason' in found) return unmappable(found.reason);
    eventType = PAGE_VIEW;
    path = found;
  } else {
    const name = textOf(message.name) ?? textOf(properties.name);
    if (name === undefined) return unmappable('a screen without a name');
    path = foreignPath(`/${name}`);
    if (path === undefined) return unmappable('the screen name is longer than a path may be');
    eventType = PAGE_VIEW;
  }

  const campaign = isPlainObject(context.campaign) ? context.campaign : {};
  const utm: Partial<Record<UtmTag, string>> = {};
  for (const [key, tag] of Object.entries(CAMPAIGN_TAGS)) {
    const value = textOf(campaign[key]);
    if (value !== undefined) utm[tag] = value;
  }

  const { props, dropped } = capProps(message.properties);
  const messageId = textOf(message.messageId);
  const event: ForeignEvent = {
    event_type: eventType,
    timestamp: new Date(at).toISOString(),
  };
  if (path) event.path = path.path;
  const rawPath = withUtmTags(path?.rawPath, utm);
  if (rawPath !== undefined) event.rawPath = rawPath;
  if (messageId !== undefined) event.event_id = segmentEventId(messageId);
  if (userId !== undefined) event.user_id = userId;
  else event.clientVisitorId = anonymousId;
  const referrer = foreignReferrer(type === 'page' ? (properties.referrer ?? page.referrer) : page.referrer);
  if (referrer !== undefined) event.referrer = referrer;
  const endUser = foreignContext(context.ip, context.userAgent);
  if (endUser) event.context = endUser;
  if (props) event.props = props;
  return { kind: 'event', event, propsDropped: dropped };
}
