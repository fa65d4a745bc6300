import { DateTime } from 'luxon';
import type { ParsedQuery, ResolvedRange, TimeGranularity } from './query-parse.service';

/** One period a query reads: its UTC bounds, and its time buckets when it has a time dimension. */
export interface QueryWindow {
  range: ResolvedRange;
  startMs: number;
  endMs: number;
  /** Every bucket's label, in order (also the empty ones). */
  labels: string[];
  /** Label of the bucket an instant falls in. */
  labelOf: (ms: number) => string;
}

export interface QueryPlan {
  main: QueryWindow;
  comparison?: QueryWindow;
}

/** Labels in the site's zone (contract): days and first days of weeks and months as dates, hours with their offset. */
function bucketStart(at: DateTime, granularity: TimeGranularity, rangeStart: DateTime): DateTime {
  if (granularity === 'hour') return at.startOf('hour');
  const start = at.startOf(granularity);
  // A week or month is labelled by its first day inside the range.
  return granularity !== 'day' && start < rangeStart ? rangeStart.startOf('day') : start;
}

function labelOfStart(start: DateTime, granularity: TimeGranularity): string {
  return granularity === 'hour' ? start.toISO({ suppressMilliseconds: true })! : start.toISODate()!;
}

export function windowOf(
  range: ResolvedRange,
  zone: string,
  granularity: TimeGranularity | undefined,
): QueryWindow {
  const startMs = range.start.toMillis();
  const endMs = range.end.toMillis();
  if (!granularity) return { range, startMs, endMs, labels: [], labelOf: () => '' };
  // Parts share few buckets: one label per 15-minute bucket is computed once.
  const known = new Map<number, string>();
  const labelOf = (ms: number) => {
    let label = known.get(ms);
    if (label === undefined) {
      label = labelOfStart(
        bucketStart(DateTime.fromMillis(ms, { zone }), granularity, range.start),
        granularity,
      );
      known.set(ms, label);
    }
    return label;
  };
  const labels: string[] = [];
  let at = bucketStart(range.start, granularity, range.start);
  while (at.toMillis() < endMs) {
    const label = labelOfStart(at, granularity);
    if (labels[labels.length - 1] !== label) labels.push(label);
    // Hours step in elapsed time, so a repeated DST hour is two buckets; the others by the calendar.
    at =
      granularity === 'hour'
        ? DateTime.fromMillis(at.toMillis() + 3_600_000, { zone })
        : at.startOf(granularity).plus({ [`${granularity}s`]: 1 });
  }
  return { range, startMs, endMs, labels, labelOf };
}

/** The other period of a comparison (contract: `include.comparisons`). */
export function comparisonRange(
  range: ResolvedRange,
  mode: 'previous_period' | 'year_over_year',
): ResolvedRange {
  if (mode === 'year_over_year') {
    return {
      ...range,
      start: range.start.minus({ years: 1 }),
      end: range.end.minus({ years: 1 }),
      endsToday: false,
    };
  }
  if (range.wholeDays) {
    const days = Math.round(range.end.diff(range.start, 'days').days);
    return { ...range, start: range.start.minus({ days }), end: range.start, endsToday: false };
  }
  const length = range.end.toMillis() - range.start.toMillis();
  const zone = range.start.zone;
  return {
    ...range,
    start: DateTime.fromMillis(range.start.toMillis() - length, { zone }),
    end: range.start,
    endsToday: false,
  };
}

export function planQuery(query: ParsedQuery): QueryPlan {
  const granularity = query.time?.granularity;
  return {
    main: windowOf(query.range, query.zone, granularity),
    ...(query.comparison && {
      comparison: windowOf(comparisonRange(query.range, query.comparison), query.zone, granularity),
    }),
  };
}
