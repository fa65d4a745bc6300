import Joi from 'joi';
import { siteIdRule } from '@analytics/common';
import { dayRule } from './stats.validation';

export const METRIC_AGGREGATES = ['count', 'sum', 'mean', 'min', 'max', 'median', 'p95'] as const;
export type MetricAggregate = (typeof METRIC_AGGREGATES)[number];
export const METRIC_INTERVALS = ['minute', 'hour', 'day'] as const;
export type MetricInterval = (typeof METRIC_INTERVALS)[number];

/** Without `aggs`: what the rollups answer alone (percentiles read raw points, so they are asked for). */
export const DEFAULT_METRIC_AGGREGATES: readonly MetricAggregate[] = ['count', 'sum', 'mean', 'min', 'max'];
export const MAX_TAG_FILTERS = 20;

export interface MetricQuery {
  site_id: string;
  name: string;
  from: string;
  to: string;
  interval: MetricInterval;
  aggs: MetricAggregate[];
  /** `tag.<key>=<value>` parameters, all of which must hold. */
  tags: { key: string; value: string }[];
}

interface RawMetricQuery {
  site_id: string;
  name: string;
  from: string;
  to: string;
  interval?: MetricInterval;
  aggs?: string;
  [tag: `tag.${string}`]: string;
}

const aggsRule = Joi.string()
  .max(200)
  .custom((value: string, helpers) => {
    const names = value.split(',');
    for (const name of names) {
      if (!(METRIC_AGGREGATES as readonly string[]).includes(name))
        return helpers.error('aggs.unknown', { name });
    }
    if (new Set(names).size !== names.length) return helpers.error('aggs.repeated');
    return value;
  })
  .messages({
    'aggs.unknown': `{#label} lists "{#name}"; use a comma-separated list of ${METRIC_AGGREGATES.join(', ')}`,
    'aggs.repeated': '{#label} lists an aggregate twice',
  });

/**
 * `GET /metrics/query`'s parameters: each one string (a repeated key arrives as an array: 400); tag
 * filters as `tag.<key>=<value>` with the key and value rules of tags (1–64 and at most 256 characters).
 */
export const metricQuerySchema = Joi.object<RawMetricQuery>({
  site_id: siteIdRule.required(),
  name: Joi.string().min(1).max(120).required(),
  from: dayRule.required(),
  to: dayRule.required(),
  interval: Joi.valid(...METRIC_INTERVALS),
  aggs: aggsRule,
})
  .pattern(/^tag\..{1,64}$/, Joi.string().max(256))
  .custom((value: RawMetricQuery, helpers) => {
    if (value.from > value.to) return helpers.error('range.order');
    const tags = Object.keys(value).filter((key) => key.startsWith('tag.'));
    if (tags.length > MAX_TAG_FILTERS) return helpers.error('tags.many');
    return value;
  })
  .messages({
    'range.order': 'from must not be after to',
    'tags.many': `at most ${MAX_TAG_FILTERS} tag.<key> filters`,
    'object.unknown': '{#label} is not a parameter of this endpoint (tag filters are tag.<key>=<value>)',
  })
  .prefs({ abortEarly: false, convert: false, allowUnknown: false, errors: { wrap: { label: false } } });

/** The validated parameters as a query object, defaults filled. */
export function toMetricQuery(raw: RawMetricQuery): MetricQuery {
  const tags = Object.entries(raw)
    .filter(([key]) => key.startsWith('tag.'))
    .map(([key, value]) => ({ key: key.slice(4), value: String(value) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    site_id: raw.site_id,
    name: raw.name,
    from: raw.from,
    to: raw.to,
    interval: raw.interval ?? 'day',
    aggs: raw.aggs ? (raw.aggs.split(',') as MetricAggregate[]) : [...DEFAULT_METRIC_AGGREGATES],
    tags,
  };
}

export type { RawMetricQuery };
