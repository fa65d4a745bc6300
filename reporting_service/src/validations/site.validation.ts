import Joi from 'joi';
import { siteIdRule } from '@analytics/common';

export interface CreateSiteInput {
  name: string;
  site_id?: string;
}

export const SITE_NAME_MAX_LENGTH = 200;

const SITE_SCHEMA_PREFS: Joi.ValidationOptions = {
  abortEarly: false,
  convert: true,
  allowUnknown: false,
  errors: { wrap: { label: false } },
};

export const createSiteSchema = Joi.object<CreateSiteInput>({
  name: Joi.string().trim().min(1).max(SITE_NAME_MAX_LENGTH).required(),
  site_id: siteIdRule,
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
