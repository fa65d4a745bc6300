import Joi from 'joi';
import { siteIdRule } from '@analytics/common';
import { dayRule, EVENT_RANGE_PREFS, RANGE_MESSAGES, toNotBeforeFrom } from './event-range.validation';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportInput {
  site_id: string;
  from: string;
  to: string;
  format: ExportFormat;
}

/** `GET /export`: inclusive days in the site's zone; the format defaults to CSV. */
export const exportSchema = Joi.object<ExportInput>({
  site_id: siteIdRule.required(),
  from: dayRule.required(),
  to: dayRule.required(),
  format: Joi.string()
    .valid(...EXPORT_FORMATS)
    .default('csv'),
})
  .required()
  .custom(toNotBeforeFrom)
  .messages(RANGE_MESSAGES)
  .prefs(EVENT_RANGE_PREFS);
