import Joi from 'joi';
import { siteIdRule } from '@analytics/common';

/** GET /dashboard's query string: the site, nothing else (one string; repeats and unknown keys are 400s). */
export const dashboardQuerySchema = Joi.object<{ site_id: string }>({ site_id: siteIdRule.required() })
  .prefs({ abortEarly: false, convert: false })
  .required();
