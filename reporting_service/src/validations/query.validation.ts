import Joi from 'joi';
import { siteIdRule } from '@analytics/common';

export const QUERY_METRICS = [
  'visitors',
  'visits',
  'pageviews',
  'events',
  'bounce_rate',
  'visit_duration',
  'views_per_visit',
  'percentage',
] as const;
export type QueryMetric = (typeof QUERY_METRICS)[number];

/** Metrics of whole visits: meaningless per event, so refused with an `event:*` dimension (as Plausible). */
export const VISIT_METRICS: readonly QueryMetric[] = [
  'visits',
  'bounce_rate',
  'visit_duration',
  'views_per_visit',
];

export const DATE_RANGE_SHORTCUTS = [
  'day',
  '24h',
  '7d',
  '28d',
  '30d',
  '91d',
  'month',
  '6mo',
  '12mo',
  'year',
  'all',
] as const;
export type DateRangeShortcut = (typeof DATE_RANGE_SHORTCUTS)[number];

export const VISIT_DIMENSIONS = [
  'visit:entry_page',
  'visit:exit_page',
  'visit:source',
  'visit:referrer',
  'visit:utm_source',
  'visit:utm_medium',
  'visit:utm_campaign',
  'visit:utm_term',
  'visit:utm_content',
  'visit:device',
  'visit:browser',
  'visit:os',
  'visit:country',
] as const;
export const TIME_DIMENSIONS = ['time', 'time:hour', 'time:day', 'time:week', 'time:month'] as const;
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];

/** `event:props:<key>`: a prop key as events may carry one (1–64 characters, no control characters). */
const PROPS_DIMENSION = /^event:props:[^\p{Cc}]{1,64}$/u;

const dimensionRule = Joi.alternatives()
  .try(
    Joi.string().valid('event:page', 'event:name', ...VISIT_DIMENSIONS, ...TIME_DIMENSIONS),
    Joi.string().pattern(PROPS_DIMENSION),
  )
  .messages({ 'alternatives.match': '{#label} is not a dimension (see docs/api.md, "Query API")' });

export interface QueryBody {
  site_id: string;
  metrics: QueryMetric[];
  date_range: DateRangeShortcut | [string, string];
  dimensions: string[];
  filters: unknown[];
  order_by?: [string, 'asc' | 'desc'][];
  include: {
    time_labels: boolean;
    total_rows: boolean;
    comparisons?: { mode: 'previous_period' | 'year_over_year' } | null;
  };
  pagination: { limit: number; offset: number };
}

/** `YYYY-MM-DD`, or an ISO-8601 datetime with an offset (`Z` or `±hh:mm`). */
const RANGE_END =
  /^(\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))$/;

/**
 * The body's shape. What depends on several fields (visit metrics with event dimensions, order keys,
 * the range's length, filter trees) is checked by parseQuery, which names the field too.
 */
export const queryBodySchema = Joi.object<QueryBody>({
  site_id: siteIdRule.required(),
  metrics: Joi.array()
    .items(Joi.string().valid(...QUERY_METRICS))
    .min(1)
    .max(8)
    .unique()
    .required(),
  date_range: Joi.alternatives()
    .try(
      Joi.string().valid(...DATE_RANGE_SHORTCUTS),
      Joi.array()
        .ordered(Joi.string().pattern(RANGE_END).required(), Joi.string().pattern(RANGE_END).required())
        .length(2),
    )
    .required()
    .messages({
      'alternatives.match': `{#label} must be one of ${DATE_RANGE_SHORTCUTS.join(', ')}, two days YYYY-MM-DD, or two ISO-8601 datetimes with an offset`,
    }),
  dimensions: Joi.array().items(dimensionRule).max(3).unique().default([]),
  filters: Joi.array().max(50).default([]),
  order_by: Joi.array()
    .items(
      Joi.array().ordered(Joi.string().required(), Joi.string().valid('asc', 'desc').required()).length(2),
    )
    .max(10),
  include: Joi.object({
    time_labels: Joi.boolean().default(false),
    total_rows: Joi.boolean().default(false),
    comparisons: Joi.object({
      mode: Joi.string().valid('previous_period', 'year_over_year').required(),
    }).allow(null),
  }).default({ time_labels: false, total_rows: false }),
  pagination: Joi.object({
    limit: Joi.number().integer().min(1).max(10_000).default(10_000),
    offset: Joi.number().integer().min(0).max(1_000_000_000).default(0),
  }).default({ limit: 10_000, offset: 0 }),
})
  .prefs({ abortEarly: false, convert: false })
  .required();
