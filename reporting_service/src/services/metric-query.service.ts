import type mongoose from 'mongoose';
import {
  addBins,
  addLimbs,
  coverRange,
  DEFAULT_SITE_TIMEZONE,
  invalidFields,
  meanOfLimbs,
  percentileOfBins,
  percentileOfSorted,
  SKETCH_RELATIVE_ACCURACY,
  sumOfLimbs,
  type MetricPeriod,
  type MetricRollupDocument,
  type SketchBins,
  type SumLimbs,
} from '@analytics/common';
import { getMetricPoints } from '../queries/get-metric-points.query';
import { getMetricRollups } from '../queries/get-metric-rollups.query';
import type { SiteRepository } from '../repositories/site.repository';
import type { MetricAggregate, MetricQuery } from '../validations/metric-query.validation';
import { siteNotFoundError } from './site.service';
import { addDays, isLocalHourStart, localDayStart, localIsoLabel } from './zone-calendar.service';

export const MAX_METRIC_BUCKETS = 1440;
/** Most raw points read for percentiles; beyond, they come from the rollups' sketches (approximate). */
export const MAX_PERCENTILE_POINTS = 200_000;

const MINUTE_MS = 60_000;
const QUARTER_MS = 15 * MINUTE_MS;

/** One bucket of the answer's series: `[startMs, endMs)` in UTC, labelled in the site's zone. */
export interface SeriesBucket {
  startMs: number;
  endMs: number;
  time: string;
}

/**
 * The buckets of `from`–`to` (inclusive local dates) at `interval` in `zone`: local days, local hours, or
 * minutes. More than MAX_METRIC_BUCKETS is a 400. Pure.
 */
export function planSeriesBuckets(
  zone: string,
  query: Pick<MetricQuery, 'from' | 'to' | 'interval'>,
): SeriesBucket[] {
  const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000 + 1;
  const roughLimitDays = { day: MAX_METRIC_BUCKETS, hour: Math.floor(MAX_METRIC_BUCKETS / 23), minute: 1 }[
    query.interval
  ];
  const tooMany = () =>
    invalidFields([
      {
        field: 'to',
        message: `from-to at interval ${query.interval} spans more than ${MAX_METRIC_BUCKETS} buckets`,
      },
    ]);
  if (days > roughLimitDays) throw tooMany();
  const rangeStart = localDayStart(zone, query.from);
  const rangeEnd = localDayStart(zone, addDays(query.to, 1));
  const buckets: SeriesBucket[] = [];
  if (query.interval === 'day') {
    let start = rangeStart;
    for (let day = query.from; day <= query.to; day = addDays(day, 1)) {
      const end = localDayStart(zone, addDays(day, 1));
      buckets.push({ startMs: start, endMs: end, time: day });
      start = end;
    }
  } else if (query.interval === 'hour') {
    let start = rangeStart;
    for (let at = rangeStart + QUARTER_MS; at <= rangeEnd; at += QUARTER_MS) {
      if (at === rangeEnd || isLocalHourStart(zone, at)) {
        buckets.push({ startMs: start, endMs: at, time: localIsoLabel(zone, start) });
        start = at;
      }
    }
  } else {
    for (let at = rangeStart; at < rangeEnd; at += MINUTE_MS) {
      buckets.push({ startMs: at, endMs: at + MINUTE_MS, time: localIsoLabel(zone, at) });
    }
  }
  if (buckets.length > MAX_METRIC_BUCKETS) throw tooMany();
  return buckets;
}

/** What the rollups (and raw points, for percentiles) hold for one bucket of the answer. */
interface Summary {
  count: number;
  limbs: SumLimbs;
  min?: number;
  max?: number;
  bins: SketchBins;
  values: number[];
}

const emptySummary = (): Summary => ({ count: 0, limbs: {}, bins: {}, values: [] });

function mergeRollup(into: Summary, doc: MetricRollupDocument): void {
  into.count += doc.count;
  addLimbs(into.limbs, doc.s ?? {});
  addBins(into.bins, doc.h ?? {});
  if (doc.min !== undefined && (into.min === undefined || doc.min < into.min)) into.min = doc.min;
  if (doc.max !== undefined && (into.max === undefined || doc.max > into.max)) into.max = doc.max;
}

/** Every aggregate but `count`, which each series item and the total always carry. */
export type AggregateValues = Partial<Record<Exclude<MetricAggregate, 'count'>, number | null>> & {
  overflow?: true;
};

/**
 * The requested aggregates of one summary. Percentiles are exact nearest-rank over `values` when every
 * point counted is among them (`exactPercentiles`), else read from the sketch (`approximate`).
 */
export function aggregatesOf(
  summary: Summary,
  aggs: readonly MetricAggregate[],
  exactPercentiles: boolean,
): { values: AggregateValues; approximate: boolean } {
  const out: AggregateValues = {};
  let approximate = false;
  const sorted =
    exactPercentiles && (aggs.includes('median') || aggs.includes('p95'))
      ? [...summary.values].sort((a, b) => a - b)
      : [];
  const percentile = (p: number): number | null => {
    if (summary.count === 0) return null;
    if (exactPercentiles) return percentileOfSorted(sorted, p) ?? null;
    approximate = true;
    const value = percentileOfBins(summary.bins, p);
    if (value === undefined) return null;
    // Within the bin's bound, and never outside the values' exact range.
    return Math.min(summary.max ?? value, Math.max(summary.min ?? value, value));
  };
  for (const agg of aggs) {
    switch (agg) {
      case 'count':
        break;
      case 'sum': {
        const sum = sumOfLimbs(summary.limbs);
        out.sum = Number.isFinite(sum) ? sum : null;
        if (!Number.isFinite(sum)) out.overflow = true;
        break;
      }
      case 'mean':
        out.mean = summary.count === 0 ? null : meanOfLimbs(summary.limbs, summary.count);
        break;
      case 'min':
        out.min = summary.min ?? null;
        break;
      case 'max':
        out.max = summary.max ?? null;
        break;
      case 'median':
        out.median = percentile(50);
        break;
      case 'p95':
        out.p95 = percentile(95);
        break;
    }
  }
  return { values: out, approximate };
}

export interface MetricQueryAnswer {
  name: string;
  interval: MetricQuery['interval'];
  timezone: string;
  series: ({ time: string; count: number } & AggregateValues)[];
  total: { count: number } & AggregateValues;
  approximate?: true;
  /** With `approximate`: percentiles are within this relative error of the exact nearest-rank value. */
  relative_error_bound?: number;
}

export interface MetricQueryService {
  query(query: MetricQuery): Promise<MetricQueryAnswer>;
}

export function createMetricQueryService(
  sites: SiteRepository,
  mongo: mongoose.Connection,
): MetricQueryService {
  return {
    async query(query) {
      const site = await sites.findById(query.site_id);
      if (!site) throw siteNotFoundError(query.site_id);
      const zone = site.timezone ?? DEFAULT_SITE_TIMEZONE;
      const buckets = planSeriesBuckets(zone, query);

      // Each answer bucket is an exact union of stored UTC buckets.
      const owner = new Map<string, number>();
      const perPeriod = new Map<MetricPeriod, string[]>();
      buckets.forEach((bucket, index) => {
        const pieces =
          query.interval === 'minute'
            ? [{ period: 'm' as const, bucket: new Date(bucket.startMs).toISOString().slice(0, 16) }]
            : coverRange(bucket.startMs, bucket.endMs);
        for (const piece of pieces) {
          owner.set(`${piece.period}|${piece.bucket}`, index);
          const list = perPeriod.get(piece.period) ?? [];
          list.push(piece.bucket);
          perPeriod.set(piece.period, list);
        }
      });
      const rollups = await getMetricRollups(mongo, {
        siteId: site.site_id,
        name: query.name,
        buckets: perPeriod,
        tags: query.tags,
      });
      const summaries = buckets.map(emptySummary);
      for (const doc of rollups) {
        const index = owner.get(`${doc.period}|${doc.bucket}`);
        if (index !== undefined) mergeRollup(summaries[index]!, doc);
      }

      // Percentiles: the retained raw points, exact while every counted point is still there.
      const wantsPercentiles = query.aggs.includes('median') || query.aggs.includes('p95');
      let pointsComplete = false;
      if (wantsPercentiles && buckets.length > 0) {
        const points = await getMetricPoints(
          mongo,
          {
            siteId: site.site_id,
            name: query.name,
            startMs: buckets[0]!.startMs,
            endMs: buckets[buckets.length - 1]!.endMs,
            tags: query.tags,
          },
          MAX_PERCENTILE_POINTS,
        );
        if (points) {
          pointsComplete = true;
          const starts = buckets.map((b) => b.startMs);
          for (const point of points) {
            const index = lastAtOrBefore(starts, point.at);
            if (index >= 0 && point.at < buckets[index]!.endMs) summaries[index]!.values.push(point.value);
          }
        }
      }

      let approximate = false;
      const total = emptySummary();
      const series: MetricQueryAnswer['series'] = [];
      summaries.forEach((summary, index) => {
        if (summary.count === 0) return;
        total.count += summary.count;
        addLimbs(total.limbs, summary.limbs);
        addBins(total.bins, summary.bins);
        if (summary.min !== undefined && (total.min === undefined || summary.min < total.min))
          total.min = summary.min;
        if (summary.max !== undefined && (total.max === undefined || summary.max > total.max))
          total.max = summary.max;
        for (const value of summary.values) total.values.push(value);
        // Fewer raw points than counted: retention removed some (older than RETENTION_DAYS).
        const exact = pointsComplete && summary.values.length >= summary.count;
        const { values, approximate: approx } = aggregatesOf(summary, query.aggs, exact);
        approximate ||= approx;
        series.push({ time: buckets[index]!.time, count: summary.count, ...values });
      });
      const totalExact = pointsComplete && total.values.length >= total.count;
      const totalAggs = aggregatesOf(total, query.aggs, totalExact);
      approximate ||= totalAggs.approximate;
      const answer: MetricQueryAnswer = {
        name: query.name,
        interval: query.interval,
        timezone: zone,
        series,
        total: { count: total.count, ...totalAggs.values },
      };
      if (approximate) {
        answer.approximate = true;
        answer.relative_error_bound = SKETCH_RELATIVE_ACCURACY;
      }
      return answer;
    },
  };
}

/** Index of the last start at or before `at` (binary search); -1 when `at` is before all. */
function lastAtOrBefore(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
