import Joi from 'joi';
import { siteIdRule } from '@analytics/common';
import { dayRule, EVENT_RANGE_PREFS, RANGE_MESSAGES, toNotBeforeFrom } from './event-range.validation';

export const USER_EVENTS_DEFAULT_LIMIT = 100;
export const USER_EVENTS_MAX_LIMIT = 1000;
/** A user id as ingestion accepts it. */
const userIdRule = Joi.string().min(1).max(256);

export interface UserParams {
  user_id: string;
}

export const userParamsSchema = Joi.object<UserParams>({ user_id: userIdRule.required() })
  .required()
  .prefs(EVENT_RANGE_PREFS);

export interface UserEventsInput {
  site_id: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** `GET /users/:user_id/events`: `from`/`to` optional inclusive days in the site's zone. */
export const userEventsSchema = Joi.object<UserEventsInput>({
  site_id: siteIdRule.required(),
  from: dayRule,
  to: dayRule,
  limit: Joi.number().integer().min(1).max(USER_EVENTS_MAX_LIMIT).default(USER_EVENTS_DEFAULT_LIMIT),
  cursor: Joi.string()
    .max(400)
    .pattern(/^[A-Za-z0-9_-]+$/),
})
  .required()
  .custom(toNotBeforeFrom)
  .messages(RANGE_MESSAGES)
  .prefs(EVENT_RANGE_PREFS);

export interface UserErasureInput {
  site_id: string;
}

export const userErasureSchema = Joi.object<UserErasureInput>({ site_id: siteIdRule.required() })
  .required()
  .prefs(EVENT_RANGE_PREFS);

export const erasureParamsSchema = Joi.object<{ request_id: string }>({
  request_id: Joi.string()
    .pattern(/^[0-9a-f-]{36}$/)
    .required()
    .messages({ 'string.pattern.base': 'must be a request id as DELETE /users/:user_id answered it' }),
})
  .required()
  .prefs(EVENT_RANGE_PREFS);
