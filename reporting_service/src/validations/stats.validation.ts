import Joi from 'joi';
import { siteIdRule } from '@analytics/common';

export interface StatsQuery {
  site_id: string;
  date?: string;
  from?: string;
  to?: string;
}

/** The longest range `from`–`to` may span, both days included. */
export const MAX_RANGE_DAYS = 366;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar day as `YYYY-MM-DD` (2025-02-30 is not one); also GET /metrics/query's. */
export const dayRule = Joi.string()
  .pattern(DAY)
  .custom((value: string, helpers) => {
    const at = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value)
      return helpers.error('day.invalid');
    return value;
  })
  .messages({
    'string.pattern.base': '{#label} must be a day as YYYY-MM-DD',
    'day.invalid': '{#label} is not a calendar day',
  });

/**
 * Query strings arrive as strings, or arrays when a key repeats; `site_id[$ne]=x` arrives as an unknown
 * key (the simple query parser builds no objects). Anything but one string per known key is a 400.
 */
export const statsQuerySchema = Joi.object<StatsQuery>({
  site_id: siteIdRule.required(),
  date: dayRule,
  from: dayRule,
  to: dayRule,
})
  .oxor('date', 'from')
  .oxor('date', 'to')
  .and('from', 'to')
  .custom((value: StatsQuery, helpers) => {
    if (value.from && value.to) {
      const days = (Date.parse(value.to) - Date.parse(value.from)) / 86_400_000 + 1;
      if (days < 1) return helpers.error('range.order', { field: 'from' });
      if (days > MAX_RANGE_DAYS) return helpers.error('range.long', { field: 'to' });
    }
    return value;
  })
  .messages({
    'range.order': 'from must not be after to',
    'range.long': `from-to must span at most ${MAX_RANGE_DAYS} days`,
    'object.oxor': 'send either date, or from and to, not both',
    'object.and': 'from and to go together',
  })
  .prefs({ abortEarly: false, convert: false, allowUnknown: false, errors: { wrap: { label: false } } });
