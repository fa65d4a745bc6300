import Joi from 'joi';
import { EVENT_ID_PATTERN, MAX_EVENTS_PER_REQUEST, PAGE_VIEW } from '@analytics/common';

/** Every limit of an event, as the contract states it; docs/api.md lists the same numbers. */
export const EVENT_LIMITS = Object.freeze({
  siteIdMaxLength: 64,
  eventTypeMaxLength: 64,
  eventIdMaxLength: 64,
  pathMaxLength: 2048,
  userIdMaxLength: 256,
  referrerMaxLength: 2048,
  propsMaxKeys: 20,
  propKeyMaxLength: 64,
  propStringMaxLength: 256,
  contextUserAgentMaxLength: 512,
  timestampMaxLength: 64,
  writeKeyMaxLength: 200,
  batchMaxEvents: MAX_EVENTS_PER_REQUEST,
  futureToleranceMs: 5 * 60 * 1000,
});

/**
 * 1–120 characters (code points) of printable Unicode: no control characters, no unpaired surrogates
 * (contract Part 2; Segment's event names such as `Order Completed` fit).
 */
export const EVENT_TYPE_PATTERN = /^[^\p{Cc}\p{Cs}]{1,120}$/u;

/** Accepted spellings that are stored as another event type. */
export const EVENT_TYPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({ pageview: PAGE_VIEW });

export function canonicalEventType(eventType: string): string {
  return EVENT_TYPE_ALIASES[eventType] ?? eventType;
}

/**
 * The path as every statistic sees it: without query string and fragment, otherwise literal. With hash
 * routing (`keepFragment`) a non-empty fragment stays: `/app?x=1#/orders` is `/app#/orders`.
 */
export function statisticPath(path: string, keepFragment = false): string {
  const fragmentAt = path.indexOf('#');
  const beforeFragment = fragmentAt === -1 ? path : path.slice(0, fragmentAt);
  const queryAt = beforeFragment.indexOf('?');
  const page = queryAt === -1 ? beforeFragment : beforeFragment.slice(0, queryAt);
  const fragment = fragmentAt === -1 ? '' : path.slice(fragmentAt);
  return keepFragment && fragment.length > 1 ? page + fragment : page;
}

// The request's field rules. Custom messages sit on the rule (`.rule({ message })`), not on the schema
// (`.messages()`): see common's siteIdRule.
export const eventTypeRule = Joi.string()
  .pattern(EVENT_TYPE_PATTERN)
  .rule({ message: '{#label} must be 1-120 printable characters (no control characters)' });
export const eventIdRule = Joi.string()
  .pattern(EVENT_ID_PATTERN)
  .rule({ message: '{#label} must be 1-64 of A-Z a-z 0-9 _ -' });
export const pathRule = Joi.string()
  .max(EVENT_LIMITS.pathMaxLength)
  .pattern(/^\//)
  .rule({ message: '{#label} must start with /' });
export const userIdRule = Joi.string().min(1).max(EVENT_LIMITS.userIdMaxLength);
export const referrerRule = Joi.string().allow('').max(EVENT_LIMITS.referrerMaxLength);
/**
 * A prop value: a string of at most 256 characters, a finite number or a boolean. One custom check instead
 * of `alternatives` of three schemas, which tried each schema in turn: same answers and messages, about
 * 1 µs less per event with two props (docs/performance.md, third pass).
 */
const propValueRule = Joi.any()
  .custom((value: unknown, helpers) => {
    if (typeof value === 'string') {
      const limit = EVENT_LIMITS.propStringMaxLength;
      return value.length <= limit ? value : helpers.error('string.max', { limit });
    }
    if (typeof value === 'number') return Number.isFinite(value) ? value : helpers.error('number.infinity');
    if (typeof value === 'boolean') return value;
    return helpers.error('alternatives.types');
  })
  .rule({
    message: {
      'string.max': '{#label} length must be less than or equal to {#limit} characters long',
      'number.infinity': '{#label} cannot be infinity',
      'alternatives.types': '{#label} must be a string, a number or a boolean',
    },
  });

export const propsRule = Joi.object()
  .max(EVENT_LIMITS.propsMaxKeys)
  .pattern(Joi.string().min(1).max(EVENT_LIMITS.propKeyMaxLength), propValueRule);

/** What a server-side sender forwards of its end user's request (docs/api.md, "Client context"). */
export interface EventContextInput {
  ip?: string;
  user_agent?: string;
}

/** `context`: the end user's IP (v4 or v6, no prefix length) and user agent; other keys are refused. */
export const contextRule = Joi.object<EventContextInput>({
  ip: Joi.string()
    .ip({ version: ['ipv4', 'ipv6'], cidr: 'forbidden' })
    .rule({ message: '{#label} must be an IPv4 or IPv6 address' }),
  user_agent: Joi.string().min(1).max(EVENT_LIMITS.contextUserAgentMaxLength),
});
