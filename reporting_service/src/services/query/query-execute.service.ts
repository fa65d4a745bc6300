import { PAGE_VIEW, type VisitPartDocument } from '@analytics/common';
import type { QueryMetric } from '../../validations/query.validation';
import { dimensionLevel, type ParsedQuery, type QueryFilter } from './query-parse.service';
import type { QueryPlan, QueryWindow } from './query-plan.service';
import type { Visit } from './visits.service';

export interface ResultRow {
  dimensions: string[];
  metrics: (number | null)[];
  comparison?: { dimensions: string[]; metrics: (number | null)[]; change: (number | null)[] };
}

interface RowTally {
  dimensions: string[];
  visitors: Set<string>;
  visits: Set<Visit>;
  pageviews: number;
  events: number;
}

/** Half away from zero, from integers, so no binary fraction decides a tie: round(num / den, decimals). */
export function roundRatio(num: number, den: number, decimals: number): number {
  if (den === 0) return 0;
  const scale = 10 ** decimals;
  const negative = num < 0 !== den < 0;
  const n = Math.abs(num) * scale;
  const d = Math.abs(den);
  const rounded = Math.floor((2 * n + d) / (2 * d)) / scale;
  return negative && rounded !== 0 ? -rounded : rounded;
}

function visitValue(visit: Visit, dimension: string): string | undefined {
  switch (dimension) {
    case 'visit:entry_page':
      return visit.entryPage;
    case 'visit:exit_page':
      return visit.exitPage;
    default:
      return visit.fields[dimension.slice('visit:'.length) as keyof Visit['fields']];
  }
}

function eventValue(part: VisitPartDocument, dimension: string): string | undefined {
  if (dimension === 'event:page') return part.page;
  if (dimension === 'event:name') return part.name;
  const key = dimension.slice('event:props:'.length);
  const prop = part.props?.find((p) => p.key === key);
  if (prop === undefined) return undefined;
  return typeof prop.value === 'string' ? prop.value : JSON.stringify(prop.value);
}

function matches(filter: QueryFilter, valueOf: (dimension: string) => string | undefined): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.filters.every((f) => matches(f, valueOf));
    case 'or':
      return filter.filters.some((f) => matches(f, valueOf));
    case 'not':
      return !matches(filter.filter, valueOf);
    case 'leaf': {
      const value = valueOf(filter.dimension);
      const contains = value !== undefined && filter.values.some((v) => value.includes(v));
      const is = value !== undefined && filter.values.includes(value);
      return { is, is_not: !is, contains, contains_not: !contains }[filter.op];
    }
  }
}

/** Code-point order (JavaScript's `<` compares UTF-16 units, which differs beyond the BMP). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** Tallies one window: the visits it keeps, and per row the visitors, visits and in-range events. */
function tally(
  query: ParsedQuery,
  window: QueryWindow,
  visits: Visit[],
): { rows: Map<string, RowTally>; totalVisitors: number } {
  const rows = new Map<string, RowTally>();
  const allVisitors = new Set<string>();
  const hasDimensions = query.dimensions.length > 0;
  for (const visit of visits) {
    if (!query.visitFilters.every((f) => matches(f, (d) => visitValue(visit, d)))) continue;
    for (const part of visit.parts) {
      const at = part.b.getTime();
      if (at < window.startMs || at >= window.endMs) continue;
      if (!query.eventFilters.every((f) => matches(f, (d) => eventValue(part, d)))) continue;
      allVisitors.add(visit.visitor);
      const dimensions: string[] = [];
      let complete = true;
      for (const dimension of query.dimensions) {
        const level = dimensionLevel(dimension);
        const value =
          level === 'time'
            ? window.labelOf(at)
            : level === 'visit'
              ? visitValue(visit, dimension)
              : eventValue(part, dimension);
        if (value === undefined) {
          complete = false;
          break;
        }
        dimensions.push(value);
      }
      if (!complete) continue;
      const key = hasDimensions ? JSON.stringify(dimensions) : '';
      let row = rows.get(key);
      if (!row) {
        row = { dimensions, visitors: new Set(), visits: new Set(), pageviews: 0, events: 0 };
        rows.set(key, row);
      }
      row.visitors.add(visit.visitor);
      row.visits.add(visit);
      row.events += part.n;
      if (part.name === PAGE_VIEW) row.pageviews += part.n;
    }
  }
  if (!hasDimensions && rows.size === 0)
    rows.set('', { dimensions: [], visitors: new Set(), visits: new Set(), pageviews: 0, events: 0 });
  return { rows, totalVisitors: allVisitors.size };
}

function metricValue(metric: QueryMetric, row: RowTally, totalVisitors: number): number {
  const visits = row.visits.size;
  switch (metric) {
    case 'visitors':
      return row.visitors.size;
    case 'visits':
      return visits;
    case 'pageviews':
      return row.pageviews;
    case 'events':
      return row.events;
    case 'bounce_rate': {
      let bounced = 0;
      for (const visit of row.visits) if (visit.bounce) bounced += 1;
      return roundRatio(100 * bounced, visits, 1);
    }
    case 'visit_duration': {
      let totalMs = 0;
      for (const visit of row.visits) totalMs += visit.end - visit.start;
      return roundRatio(totalMs, 1000 * visits, 0);
    }
    case 'views_per_visit':
      return roundRatio(row.pageviews, visits, 2);
    case 'percentage':
      return roundRatio(100 * row.visitors.size, totalVisitors, 1);
  }
}

/** Percent change, one decimal, `null` from 0; for bounce_rate the difference in points. */
function changeOf(metric: QueryMetric, now: number, before: number): number | null {
  // Values carry at most two decimals: compare them as integers.
  const a = Math.round(now * 100);
  const b = Math.round(before * 100);
  if (metric === 'bounce_rate') return roundRatio(a - b, 100, 1);
  if (b === 0) return null;
  return roundRatio(100 * (a - b), b, 1);
}

export interface QueryOutcome {
  results: ResultRow[];
  totalRows: number;
}

/** Rows of the main window, ordered, paged, each with its comparison when one was asked for. */
export function executeQuery(
  query: ParsedQuery,
  plan: QueryPlan,
  visits: Visit[],
  comparisonVisits: Visit[] | undefined,
): QueryOutcome {
  const main = tally(query, plan.main, visits);
  const rows = [...main.rows.values()].map((row) => ({
    row,
    metrics: query.metrics.map((m) => metricValue(m, row, main.totalVisitors)),
  }));
  rows.sort(rowOrder(query, plan.main));
  const page = rows.slice(query.offset, query.offset + query.limit);

  const comparison = plan.comparison;
  if (comparison && comparisonVisits) {
    const other = tally(query, comparison, comparisonVisits);
    const timeIndex = query.time?.index;
    // Time rows pair by position: the n-th bucket with the n-th bucket of the other period.
    const pairedDimensions = (dimensions: string[]) =>
      dimensions.map((value, index) =>
        index === timeIndex ? (comparison.labels[plan.main.labels.indexOf(value)] ?? '') : value,
      );
    return {
      results: page.map(({ row, metrics }) => {
        const paired = pairedDimensions(row.dimensions);
        const otherRow = other.rows.get(query.dimensions.length > 0 ? JSON.stringify(paired) : '');
        const before = query.metrics.map((m) =>
          otherRow ? metricValue(m, otherRow, other.totalVisitors) : 0,
        );
        return {
          dimensions: row.dimensions,
          metrics,
          comparison: {
            dimensions: paired,
            metrics: before,
            change: query.metrics.map((m, i) => changeOf(m, metrics[i]!, before[i]!)),
          },
        };
      }),
      totalRows: rows.length,
    };
  }
  return {
    results: page.map(({ row, metrics }) => ({ dimensions: row.dimensions, metrics })),
    totalRows: rows.length,
  };
}

/** The requested order, then the defaults as tie-breaks: time ascending, first metric descending, dimensions ascending. */
function rowOrder(query: ParsedQuery, window: QueryWindow) {
  type Entry = { row: RowTally; metrics: number[] };
  const keys: ((a: Entry, b: Entry) => number)[] = [];
  const byDimension = (index: number, desc: boolean) => (a: Entry, b: Entry) => {
    const x = a.row.dimensions[index]!;
    const y = b.row.dimensions[index]!;
    const order =
      query.time?.index === index
        ? window.labels.indexOf(x) - window.labels.indexOf(y)
        : compareCodePoints(x, y);
    return desc ? -order : order;
  };
  const byMetric = (index: number, desc: boolean) => (a: Entry, b: Entry) =>
    desc ? b.metrics[index]! - a.metrics[index]! : a.metrics[index]! - b.metrics[index]!;
  for (const order of query.orderBy)
    keys.push(
      order.kind === 'metric' ? byMetric(order.index, order.desc) : byDimension(order.index, order.desc),
    );
  if (query.time) keys.push(byDimension(query.time.index, false));
  keys.push(byMetric(0, true));
  query.dimensions.forEach((_, index) => keys.push(byDimension(index, false)));
  return (a: Entry, b: Entry) => {
    for (const key of keys) {
      const order = key(a, b);
      if (order !== 0) return order;
    }
    return 0;
  };
}
