import Joi from 'joi';
import { siteIdRule } from '@analytics/common';

export interface CreateSiteInput {
  name: string;
  site_id?: string;
}

export const SITE_NAME_MAX_LENGTH = 200;

export const createSiteSchema = Joi.object<CreateSiteInput>({
  name: Joi.string().trim().min(1).max(SITE_NAME_MAX_LENGTH).required(),
  site_id: siteIdRule,
})
  .required()
  .prefs({ abortEarly: false, convert: true, allowUnknown: false, errors: { wrap: { label: false } } });
