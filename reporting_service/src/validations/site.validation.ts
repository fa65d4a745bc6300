import Joi from 'joi';
import {
  DEFAULT_SITE_TIMEZONE,
  isKnownTimeZone,
  normaliseDomain,
  siteIdRule,
  SITE_DOMAINS_MAX,
} from '@analytics/common';

export interface CreateSiteInput {
  name: string;
  site_id?: string;
  /** Normalised and without repeats. */
  domains: string[];
  timezone: string;
}

/** What `PATCH /sites/:site_id` may change; at least one of them. */
export interface UpdateSiteInput {
  name?: string;
  domains?: string[];
  timezone?: string;
}

/** A host name as sent, before normalisation: generous, the normaliser has the last word. */
const DOMAIN_INPUT_MAX_LENGTH = 300;

export const SITE_NAME_MAX_LENGTH = 200;

const SITE_SCHEMA_PREFS: Joi.ValidationOptions = {
  abortEarly: false,
  convert: true,
  allowUnknown: false,
  errors: { wrap: { label: false } },
};

const nameRule = Joi.string().trim().min(1).max(SITE_NAME_MAX_LENGTH);

/** Each host normalised (lower-case, punycode, no leading `www.`); repeats after normalisation dropped. */
const domainsRule = Joi.array()
  .items(
    Joi.string()
      .max(DOMAIN_INPUT_MAX_LENGTH)
      .custom((value: string, helpers) => normaliseDomain(value) ?? helpers.error('domain.invalid'))
      .messages({
        'domain.invalid': 'must be a host name such as example.com (no scheme, port or path)',
      }),
  )
  .max(SITE_DOMAINS_MAX)
  .custom((value: string[]) => [...new Set(value)]);

const timezoneRule = Joi.string()
  .max(64)
  .custom((value: string, helpers) => (isKnownTimeZone(value) ? value : helpers.error('timezone.unknown')))
  .messages({ 'timezone.unknown': 'must be an IANA time zone name such as Europe/Berlin or Etc/UTC' });

export const createSiteSchema = Joi.object<CreateSiteInput>({
  name: nameRule.required(),
  site_id: siteIdRule,
  domains: domainsRule.default([]),
  timezone: timezoneRule.default(DEFAULT_SITE_TIMEZONE),
})
  .required()
  .prefs(SITE_SCHEMA_PREFS);

export const updateSiteSchema = Joi.object<UpdateSiteInput>({
  name: nameRule,
  domains: domainsRule,
  timezone: timezoneRule,
})
  .min(1)
  .required()
  .messages({ 'object.min': 'must change at least one of name, domains, timezone' })
  .prefs(SITE_SCHEMA_PREFS);

/** `GET /sites`: pages of at most SITE_LIST_MAX_LIMIT sites, in site_id order, after a cursor. */
export const SITE_LIST_DEFAULT_LIMIT = 100;
export const SITE_LIST_MAX_LIMIT = 500;

export interface ListSitesInput {
  limit: number;
  /** The last site_id of the previous page. */
  after?: string;
}

export const listSitesSchema = Joi.object<ListSitesInput>({
  limit: Joi.number().integer().min(1).max(SITE_LIST_MAX_LIMIT).default(SITE_LIST_DEFAULT_LIMIT),
  after: siteIdRule,
})
  .required()
  .prefs(SITE_SCHEMA_PREFS);

/** Which keys `POST /sites/:site_id/keys` replaces. */
export const ROTATABLE_KEYS = ['write', 'read', 'both'] as const;
export type RotatableKeys = (typeof ROTATABLE_KEYS)[number];

export interface RotateKeysInput {
  keys: RotatableKeys;
}

/** Explicit, with no default: replacing a key cuts off every tracker or dashboard that uses it. */
export const rotateKeysSchema = Joi.object<RotateKeysInput>({
  keys: Joi.string()
    .valid(...ROTATABLE_KEYS)
    .required(),
})
  .required()
  .prefs(SITE_SCHEMA_PREFS);

export const siteParamsSchema = Joi.object<{ site_id: string }>({ site_id: siteIdRule.required() })
  .required()
  .prefs(SITE_SCHEMA_PREFS);
