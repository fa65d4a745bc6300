import Joi from 'joi';

export const EVENT_RANGE_PREFS: Joi.ValidationOptions = {
  abortEarly: false,
  convert: true,
  allowUnknown: false,
  errors: { wrap: { label: false } },
};

/** A calendar day that exists (`2025-02-30` is refused). */
export const dayRule = Joi.string()
  .pattern(/^\d{4}-\d{2}-\d{2}$/)
  .custom((value: string, helpers) => {
    const at = new Date(`${value}T00:00:00.000Z`);
    return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === value
      ? value
      : helpers.error('day.invalid');
  })
  .messages({ 'string.pattern.base': 'must be a day YYYY-MM-DD', 'day.invalid': 'must be a day YYYY-MM-DD' });

/** `to` not before `from` (both days, so a string comparison is the calendar's). */
export function toNotBeforeFrom<T extends { from?: string; to?: string }>(
  value: T,
  helpers: Joi.CustomHelpers,
): T | Joi.ErrorReport {
  if (value.from !== undefined && value.to !== undefined && value.to < value.from) {
    return helpers.error('range.reversed');
  }
  return value;
}

export const RANGE_MESSAGES = { 'range.reversed': 'to must not be before from' };
