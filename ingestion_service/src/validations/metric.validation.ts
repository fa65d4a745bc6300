import Joi from 'joi';
import { siteIdRule, type PropValue } from '@analytics/common';
import { EVENT_LIMITS, eventIdRule, propsRule } from './event-fields.validation';
import { timestampRule, VALIDATION_PREFS, writeKeyRule } from './event.validation';

/** Every limit of a metric point, as docs/api.md lists them. */
export const METRIC_LIMITS = Object.freeze({
  nameMaxLength: 120,
  batchMaxPoints: EVENT_LIMITS.batchMaxEvents,
});

/** One point as a client sends it. */
export interface MetricInput {
  site_id: string;
  name: string;
  value: number;
  /** After validation: ISO-8601 UTC. */
  timestamp?: string;
  metric_id?: string;
  tags?: Record<string, PropValue>;
  write_key?: string;
}

export interface MetricBatchInput {
  metrics: MetricInput[];
  write_key?: string;
}

/** Printable: no control characters (C0, DEL, C1), no lone surrogates, no line or paragraph separators. */
const NAME_PATTERN = /^[^\p{Cc}\p{Cs}\u2028\u2029]+$/u;

export const metricNameRule = Joi.string()
  .min(1)
  .max(METRIC_LIMITS.nameMaxLength)
  .pattern(NAME_PATTERN)
  .rule({ message: '{#label} must be 1-120 printable characters' });

const metricSchema = Joi.object<MetricInput>({
  site_id: siteIdRule.required(),
  name: metricNameRule.required(),
  // Finite (Joi refuses Infinity; JSON has no NaN), any magnitude: `unsafe` allows numbers beyond 2^53.
  value: Joi.number().unsafe().required(),
  timestamp: timestampRule,
  metric_id: eventIdRule,
  tags: propsRule,
  write_key: writeKeyRule,
});

export const singleMetricSchema = metricSchema.required().prefs(VALIDATION_PREFS);

export const metricBatchSchema = Joi.object<MetricBatchInput>({
  metrics: Joi.array().items(metricSchema).min(1).max(METRIC_LIMITS.batchMaxPoints).required(),
  write_key: writeKeyRule,
})
  .required()
  .prefs(VALIDATION_PREFS);
