import Joi from 'joi';
import { PAGE_VIEW, siteIdRule, type ErrorDetail, type PropValue } from '@analytics/common';
import {
  contextRule,
  EVENT_LIMITS,
  EVENT_TYPE_ALIASES,
  type EventContextInput,
  eventIdRule,
  eventTypeRule,
  pathRule,
  propsRule,
  referrerRule,
  userIdRule,
} from './event-fields.validation';
import { parseIsoTimestamp } from './timestamp.validation';

/** One event as a client sends it. */
export interface EventInput {
  site_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  /** After validation: ISO-8601 UTC (converted from whatever offset was sent). */
  timestamp?: string;
  event_id?: string;
  referrer?: string;
  props?: Record<string, PropValue>;
  /** The end user's IP and user agent, from server-side senders. */
  context?: EventContextInput;
  /** Hash routing (the tag's `data-hash`): the path's fragment is part of the page (contract Part 2). */
  hash_routing?: boolean;
  write_key?: string;
}

export interface BatchInput {
  events: EventInput[];
  write_key?: string;
}

/** What a validation needs to know about "now" (the request's arrival) and the accepted age. */
export interface ValidationClock {
  now: number;
  maxAgeMs: number;
}

export const PAGE_VIEW_SPELLINGS: readonly string[] = [
  PAGE_VIEW,
  ...Object.keys(EVENT_TYPE_ALIASES).filter((k) => EVENT_TYPE_ALIASES[k] === PAGE_VIEW),
];

/** Format only; the window around the request's arrival is checked after Joi (timestampWindowDetails). */
export const timestampRule = Joi.string()
  .max(EVENT_LIMITS.timestampMaxLength)
  .custom((value: string, helpers) => {
    const at = parseIsoTimestamp(value);
    if (at === undefined) return helpers.error('timestamp.format');
    return new Date(at).toISOString();
  })
  // On the rule, not .messages(): see the field rules in common/src/events/event-fields.ts.
  .rule({
    message: {
      'timestamp.format':
        '{#label} must be an ISO-8601 date-time with Z or an offset, e.g. 2025-11-12T14:03:00Z',
    },
  });

/**
 * The accepted time window, checked on validated events (timestamps already in UTC). Outside the Joi
 * schema on purpose: "now" would have to reach Joi as a per-call option, and Joi merges its preferences
 * again, and recompiles every custom message, on each call that passes options (a tenth of /events' CPU).
 */
export function timestampWindowDetails(
  events: readonly { timestamp?: string }[],
  fieldOf: (index: number) => string,
  clock: ValidationClock,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  events.forEach((event, i) => {
    if (event.timestamp === undefined) return;
    const at = Date.parse(event.timestamp);
    const field = fieldOf(i);
    if (at > clock.now + EVENT_LIMITS.futureToleranceMs) {
      details.push({ field, message: `${field} is more than 5 minutes in the future` });
    } else if (at < clock.now - clock.maxAgeMs) {
      const hours = clock.maxAgeMs / 3_600_000;
      details.push({ field, message: `${field} is older than the accepted age of ${hours} hours` });
    }
  });
  return details;
}

export const writeKeyRule = Joi.string().min(1).max(EVENT_LIMITS.writeKeyMaxLength);

const eventSchema = Joi.object<EventInput>({
  site_id: siteIdRule.required(),
  event_type: eventTypeRule.required(),
  // `.required()` on the condition: without it a missing event_type counts as a page view.
  path: Joi.when('event_type', {
    is: Joi.valid(...PAGE_VIEW_SPELLINGS).required(),
    then: pathRule.required(),
    otherwise: pathRule,
  }),
  user_id: userIdRule,
  timestamp: timestampRule,
  event_id: eventIdRule,
  referrer: referrerRule,
  props: propsRule,
  context: contextRule,
  hash_routing: Joi.boolean(),
  write_key: writeKeyRule,
});

export const VALIDATION_PREFS: Joi.ValidationOptions = {
  abortEarly: false,
  convert: false,
  allowUnknown: false,
  errors: { wrap: { label: false } },
};

export const singleEventSchema = eventSchema.required().prefs(VALIDATION_PREFS);

export const batchSchema = Joi.object<BatchInput>({
  events: Joi.array().items(eventSchema).min(1).max(EVENT_LIMITS.batchMaxEvents).required(),
  write_key: writeKeyRule,
})
  .required()
  .prefs(VALIDATION_PREFS);
