import { EVENT_ID_PATTERN, hasOwnProtoKey, SITE_ID_PATTERN, validateWith } from '@analytics/common';
import { EVENT_LIMITS, EVENT_TYPE_PATTERN } from './event-fields.validation';
import {
  batchSchema,
  PAGE_VIEW_SPELLINGS,
  singleEventSchema,
  type BatchInput,
  type EventInput,
} from './event.validation';
import { parseIsoTimestamp } from './timestamp.validation';

/*
 * A hand-written check of the bodies clients usually send, in front of `singleEventSchema` and
 * `batchSchema`: Joi was an eighth of POST /event's CPU. A body it accepts is one the schema accepts
 * unchanged (`convert: false`; timestamps only when already in the form the rule converts them to), so
 * it is returned as is. Anything it is not sure of, valid or not, goes to Joi, which gives the verdict
 * and the messages: the check may be stricter than the schema, never looser
 * (tests/unit/event-fast-check.test.ts compares the two).
 */

/** An object as JSON.parse makes it, without an own `__proto__` key (Joi would drop one). */
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  Object.getPrototypeOf(value) === Object.prototype &&
  !hasOwnProtoKey(value);

const isStringOfLength = (value: unknown, min: number, max: number): value is string =>
  typeof value === 'string' && value.length >= min && value.length <= max;

/** What `timestampRule` would return unchanged: a valid instant already written as `toISOString()`. */
function isCanonicalTimestamp(value: unknown): boolean {
  if (!isStringOfLength(value, 1, EVENT_LIMITS.timestampMaxLength)) return false;
  const at = parseIsoTimestamp(value);
  return at !== undefined && new Date(at).toISOString() === value;
}

function isProvenPropValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return value.length <= EVENT_LIMITS.propStringMaxLength;
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    default:
      return false;
  }
}

function isProvenProps(props: unknown): boolean {
  if (!isPlainObject(props)) return false;
  const keys = Object.keys(props);
  if (keys.length > EVENT_LIMITS.propsMaxKeys) return false;
  for (const key of keys) {
    if (key.length < 1 || key.length > EVENT_LIMITS.propKeyMaxLength) return false;
    if (!isProvenPropValue(props[key])) return false;
  }
  return true;
}

/** `context` without `ip`: the schema's IP rule is Joi's own, so a body with one goes to Joi. */
function isProvenContext(context: unknown): boolean {
  if (!isPlainObject(context)) return false;
  for (const key of Object.keys(context)) {
    if (key !== 'user_agent') return false;
    if (!isStringOfLength(context[key], 1, EVENT_LIMITS.contextUserAgentMaxLength)) return false;
  }
  return true;
}

const isPatternMatch = (value: unknown, pattern: RegExp): boolean =>
  typeof value === 'string' && pattern.test(value);

/** Each field's rule in eventSchema, checked exactly; typed so that a new field needs a check here. */
const FIELD_CHECKS: Record<keyof EventInput, (value: unknown) => boolean> = {
  site_id: (value) => isPatternMatch(value, SITE_ID_PATTERN),
  event_type: (value) => isPatternMatch(value, EVENT_TYPE_PATTERN),
  path: (value) => isStringOfLength(value, 1, EVENT_LIMITS.pathMaxLength) && value.startsWith('/'),
  user_id: (value) => isStringOfLength(value, 1, EVENT_LIMITS.userIdMaxLength),
  timestamp: isCanonicalTimestamp,
  event_id: (value) => isPatternMatch(value, EVENT_ID_PATTERN),
  referrer: (value) => isStringOfLength(value, 0, EVENT_LIMITS.referrerMaxLength),
  props: isProvenProps,
  context: isProvenContext,
  hash_routing: (value) => typeof value === 'boolean',
  write_key: (value) => isStringOfLength(value, 1, EVENT_LIMITS.writeKeyMaxLength),
};
/** A Map, so that keys such as `constructor` find nothing. */
const FIELD_CHECK_OF = new Map(Object.entries(FIELD_CHECKS));

/** Every key known and its value valid, in one pass over the keys the event has. */
function isProvenEvent(event: unknown): event is EventInput {
  if (!isPlainObject(event)) return false;
  for (const key of Object.keys(event)) {
    const check = FIELD_CHECK_OF.get(key);
    if (check === undefined || !check(event[key])) return false;
  }
  // Required fields; present ones were checked above. A page view needs its path.
  const { site_id, event_type, path } = event;
  if (site_id === undefined || typeof event_type !== 'string') return false;
  return path !== undefined || !PAGE_VIEW_SPELLINGS.includes(event_type);
}

/** The body of `POST /event` when it is proven valid, else undefined (Joi decides). */
export function provenSingleEvent(body: unknown): EventInput | undefined {
  return isProvenEvent(body) ? body : undefined;
}

/** The body of `POST /events` when every event is proven valid, else undefined (Joi decides). */
export function provenBatch(body: unknown): BatchInput | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const key of Object.keys(body)) {
    if (key !== 'events' && key !== 'write_key') return undefined;
  }
  const { events, write_key } = body;
  if (write_key !== undefined && !isStringOfLength(write_key, 1, EVENT_LIMITS.writeKeyMaxLength))
    return undefined;
  if (!Array.isArray(events) || Object.getPrototypeOf(events) !== Array.prototype) return undefined;
  if (events.length < 1 || events.length > EVENT_LIMITS.batchMaxEvents) return undefined;
  // Indexed, not `every`: a hole (never from JSON) must fail, as Joi's sparse-array rule does.
  for (let i = 0; i < events.length; i += 1) if (!isProvenEvent(events[i])) return undefined;
  return body as unknown as BatchInput;
}

/** `singleEventSchema`'s value, or its 400 naming each failing field. */
export function validateSingleEvent(body: unknown): EventInput {
  return provenSingleEvent(body) ?? validateWith<EventInput>(singleEventSchema, body);
}

/** `batchSchema`'s value, or its 400 naming each failing field. */
export function validateBatch(body: unknown): BatchInput {
  return provenBatch(body) ?? validateWith<BatchInput>(batchSchema, body);
}
