import { DateTime } from 'luxon';
import { AppError, invalidFields, PAGE_VIEW } from '@analytics/common';
import {
  VISIT_METRICS,
  type DateRangeShortcut,
  type QueryBody,
  type QueryMetric,
  type TimeDimension,
} from '../../validations/query.validation';

export type FilterOp = 'is' | 'is_not' | 'contains' | 'contains_not';
export type FilterLevel = 'visit' | 'event';

export type QueryFilter =
  | { kind: 'leaf'; op: FilterOp; dimension: string; values: string[]; level: FilterLevel }
  | { kind: 'and' | 'or'; filters: QueryFilter[] }
  | { kind: 'not'; filter: QueryFilter };

export type TimeGranularity = 'hour' | 'day' | 'week' | 'month';

/** A range in the site's zone: start inclusive, end exclusive; `days` when it is made of whole local days. */
export interface ResolvedRange {
  start: DateTime;
  end: DateTime;
  wholeDays: boolean;
  /** Ends at the end of today (a shortcut, or explicit days ending today). */
  endsToday: boolean;
}

export interface ParsedQuery {
  siteId: string;
  zone: string;
  metrics: QueryMetric[];
  dimensions: string[];
  /** The time dimension, if any, and its resolved granularity (`time` picks one by the range's length). */
  time?: { index: number; granularity: TimeGranularity };
  /** Conjuncts that must all hold, each of one level. */
  visitFilters: QueryFilter[];
  eventFilters: QueryFilter[];
  orderBy: { key: string; index: number; kind: 'metric' | 'dimension'; desc: boolean }[];
  range: ResolvedRange;
  includeTimeLabels: boolean;
  includeTotalRows: boolean;
  comparison?: 'previous_period' | 'year_over_year';
  limit: number;
  offset: number;
}

export interface SiteForQuery {
  site_id: string;
  timezone: string;
  /** The site's first stored bucket, for `all` (undefined: no data yet). */
  firstDataAt?: Date;
}

const FILTER_OPS = new Set<FilterOp>(['is', 'is_not', 'contains', 'contains_not']);
const MAX_RANGE_YEARS = 5;
const MAX_HOURLY_DAYS = 31;
const QUARTER_HOUR_MS = 15 * 60_000;

export function dimensionLevel(dimension: string): FilterLevel | 'time' {
  if (dimension.startsWith('time')) return 'time';
  return dimension.startsWith('visit:') ? 'visit' : 'event';
}

const bad = (field: string, message: string): AppError => invalidFields([{ field, message }]);

/** A validated body, a site and the clock → the query in the site's terms; refuses what cannot be answered. */
export function parseQuery(body: QueryBody, site: SiteForQuery, now: Date): ParsedQuery {
  const zone = site.timezone;
  const range = resolveRange(body.date_range, zone, now, site.firstDataAt);
  if (range.end.diff(range.start, 'years').years > MAX_RANGE_YEARS)
    throw bad('date_range', `must not span more than ${MAX_RANGE_YEARS} years`);

  let time: ParsedQuery['time'];
  body.dimensions.forEach((dimension, index) => {
    if (dimensionLevel(dimension) !== 'time') return;
    if (time) throw bad(`dimensions[${index}]`, 'at most one time dimension');
    const granularity = timeGranularity(dimension as TimeDimension, range);
    if (granularity === 'hour' && range.end.diff(range.start, 'days').days > MAX_HOURLY_DAYS)
      throw bad(`dimensions[${index}]`, `time:hour covers at most ${MAX_HOURLY_DAYS} days`);
    time = { index, granularity };
  });

  const eventDimension = body.dimensions.findIndex((d) => dimensionLevel(d) === 'event');
  if (eventDimension >= 0) {
    body.metrics.forEach((metric, index) => {
      if (VISIT_METRICS.includes(metric))
        throw bad(
          `metrics[${index}]`,
          `${metric} is a visit metric and cannot be broken down by ${body.dimensions[eventDimension]}`,
        );
    });
  }
  body.metrics.forEach((metric, index) => {
    if (metric === 'percentage' && body.dimensions.length === 0)
      throw bad(`metrics[${index}]`, 'percentage needs a dimension');
  });

  const orderBy = (body.order_by ?? []).map(([key, direction], index) => {
    const metric = body.metrics.indexOf(key as QueryMetric);
    if (metric >= 0) return { key, index: metric, kind: 'metric' as const, desc: direction === 'desc' };
    const dimension = body.dimensions.indexOf(key);
    if (dimension >= 0)
      return { key, index: dimension, kind: 'dimension' as const, desc: direction === 'desc' };
    throw bad(`order_by[${index}][0]`, 'must be one of the query’s metrics or dimensions');
  });

  const visitFilters: QueryFilter[] = [];
  const eventFilters: QueryFilter[] = [];
  body.filters.forEach((raw, index) => {
    for (const conjunct of conjuncts(parseFilter(raw, `filters[${index}]`))) {
      const level = levelOf(conjunct);
      if (level === 'mixed')
        throw bad(`filters[${index}]`, 'cannot mix visit-level and event-level filters inside or / not');
      (level === 'visit' ? visitFilters : eventFilters).push(conjunct);
    }
  });

  return {
    siteId: body.site_id,
    zone,
    metrics: body.metrics,
    dimensions: body.dimensions,
    ...(time && { time }),
    visitFilters,
    eventFilters,
    orderBy,
    range,
    includeTimeLabels: body.include.time_labels,
    includeTotalRows: body.include.total_rows,
    ...(body.include.comparisons && { comparison: body.include.comparisons.mode }),
    limit: body.pagination.limit,
    offset: body.pagination.offset,
  };
}

function timeGranularity(dimension: TimeDimension, range: ResolvedRange): TimeGranularity {
  if (dimension !== 'time') return dimension.slice('time:'.length) as TimeGranularity;
  const days = range.end.diff(range.start, 'days').days;
  if (days <= 2) return 'hour';
  return days <= 92 ? 'day' : 'month';
}

/** Date ranges and shortcuts, in the site's zone (contract: `date_range`). */
export function resolveRange(
  dateRange: DateRangeShortcut | [string, string],
  zone: string,
  now: Date,
  firstDataAt: Date | undefined,
): ResolvedRange {
  const local = DateTime.fromJSDate(now, { zone });
  const today = local.startOf('day');
  const tomorrow = today.plus({ days: 1 });
  const days = (start: DateTime): ResolvedRange => ({
    start,
    end: tomorrow,
    wholeDays: true,
    endsToday: true,
  });
  if (typeof dateRange === 'string') {
    switch (dateRange) {
      case 'day':
        return days(today);
      case '24h': {
        const hour = local.startOf('hour');
        // Hours as elapsed time: across a DST change the 24 hours are real ones.
        return {
          start: DateTime.fromMillis(hour.toMillis() - 23 * 3_600_000, { zone }),
          end: DateTime.fromMillis(hour.toMillis() + 3_600_000, { zone }),
          wholeDays: false,
          endsToday: true,
        };
      }
      case '7d':
      case '28d':
      case '30d':
      case '91d':
        return days(today.minus({ days: Number.parseInt(dateRange, 10) - 1 }));
      case 'month':
        return days(today.startOf('month'));
      case '6mo':
      case '12mo':
        return days(today.startOf('month').minus({ months: Number.parseInt(dateRange, 10) - 1 }));
      case 'year':
        return days(today.startOf('year'));
      case 'all': {
        const earliest = today.minus({ years: MAX_RANGE_YEARS }).plus({ days: 1 });
        const first = firstDataAt ? DateTime.fromJSDate(firstDataAt, { zone }).startOf('day') : today;
        return days(first < earliest ? earliest : first);
      }
    }
  }
  const [from, to] = dateRange;
  const isDay = (s: string) => s.length === 10;
  if (isDay(from) !== isDay(to)) throw bad('date_range', 'give two days or two datetimes, not one of each');
  if (isDay(from)) {
    const start = DateTime.fromISO(from, { zone });
    const last = DateTime.fromISO(to, { zone });
    if (!start.isValid) throw bad('date_range[0]', 'is not a calendar day');
    if (!last.isValid) throw bad('date_range[1]', 'is not a calendar day');
    if (last < start) throw bad('date_range', 'ends before it starts');
    const end = last.plus({ days: 1 }).startOf('day');
    return { start: start.startOf('day'), end, wholeDays: true, endsToday: end.equals(tomorrow) };
  }
  const start = DateTime.fromISO(from, { setZone: true });
  const end = DateTime.fromISO(to, { setZone: true });
  ([start, end] as const).forEach((at, i) => {
    if (!at.isValid) throw bad(`date_range[${i}]`, 'is not an ISO-8601 datetime');
    if (at.toMillis() % QUARTER_HOUR_MS !== 0)
      throw bad(`date_range[${i}]`, 'must fall on a 15-minute boundary (00, 15, 30 or 45)');
  });
  if (end <= start) throw bad('date_range', 'must end after it starts');
  return { start: start.setZone(zone), end: end.setZone(zone), wholeDays: false, endsToday: false };
}

function parseFilter(raw: unknown, at: string): QueryFilter {
  if (!Array.isArray(raw) || raw.length === 0)
    throw bad(at, 'must be [op, dimension, [values]] or ["and"|"or"|"not", …]');
  const [op] = raw as unknown[];
  if (op === 'and' || op === 'or') {
    const list = raw[1] as unknown;
    if (raw.length !== 2 || !Array.isArray(list) || list.length === 0 || list.length > 50)
      throw bad(`${at}[1]`, `${op} takes a list of 1 to 50 filters`);
    return { kind: op, filters: list.map((f, i) => parseFilter(f, `${at}[1][${i}]`)) };
  }
  if (op === 'not') {
    if (raw.length !== 2) throw bad(at, 'not takes one filter');
    return { kind: 'not', filter: parseFilter(raw[1], `${at}[1]`) };
  }
  if (typeof op !== 'string' || !FILTER_OPS.has(op as FilterOp))
    throw bad(`${at}[0]`, 'must be is, is_not, contains, contains_not, and, or or not');
  if (raw.length !== 3) throw bad(at, 'must be [op, dimension, [values]]');
  const dimension = raw[1] as unknown;
  if (typeof dimension !== 'string' || !isFilterDimension(dimension))
    throw bad(`${at}[1]`, 'must be an event:* or visit:* dimension');
  const values = raw[2] as unknown;
  if (!Array.isArray(values) || values.length < 1 || values.length > 100)
    throw bad(`${at}[2]`, 'must be a list of 1 to 100 values');
  values.forEach((value, i) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > 2000)
      throw bad(`${at}[2][${i}]`, 'must be a non-empty string');
  });
  const level = dimensionLevel(dimension) as FilterLevel;
  const normalised =
    dimension === 'event:name'
      ? (values as string[]).map((v) => (v === 'pageview' ? PAGE_VIEW : v))
      : (values as string[]);
  return { kind: 'leaf', op: op as FilterOp, dimension, values: normalised, level };
}

function isFilterDimension(dimension: string): boolean {
  const level = dimensionLevel(dimension);
  if (level === 'time') return false;
  return (
    dimension === 'event:page' ||
    dimension === 'event:name' ||
    /^event:props:[^\p{Cc}]{1,64}$/u.test(dimension) ||
    (level === 'visit' &&
      /^visit:(entry_page|exit_page|source|referrer|utm_(source|medium|campaign|term|content)|device|browser|os|country)$/.test(
        dimension,
      ))
  );
}

function conjuncts(filter: QueryFilter): QueryFilter[] {
  return filter.kind === 'and' ? filter.filters.flatMap(conjuncts) : [filter];
}

function levelOf(filter: QueryFilter): FilterLevel | 'mixed' {
  if (filter.kind === 'leaf') return filter.level;
  const levels = new Set((filter.kind === 'not' ? [filter.filter] : filter.filters).map(levelOf));
  return levels.size === 1 ? [...levels][0]! : 'mixed';
}
