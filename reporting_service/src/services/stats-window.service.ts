import { DAY_MS, HOUR_MS, hourBucket, startOfHour, type RollupPeriod } from '@analytics/common';
import type { StatsQuery } from '../validations/stats.validation';

/** Which rollups answer a /stats request, and how the response names its window. */
export interface StatsWindow {
  period: RollupPeriod;
  buckets: string[];
  label: { date: string } | { from: string; to: string };
}

/** The hours of the default window: the current UTC hour and the 23 whole hours before it. */
export const DEFAULT_WINDOW_HOURS = 24;

export function resolveStatsWindow(query: StatsQuery, now: Date): StatsWindow {
  if (query.date) return { period: 'D', buckets: [query.date], label: { date: query.date } };
  if (query.from && query.to) {
    return {
      period: 'D',
      buckets: dayBuckets(query.from, query.to),
      label: { from: query.from, to: query.to },
    };
  }
  const currentHour = startOfHour(now);
  const first = new Date(currentHour.getTime() - (DEFAULT_WINDOW_HOURS - 1) * HOUR_MS);
  return {
    period: 'H',
    buckets: hourBuckets(currentHour, DEFAULT_WINDOW_HOURS),
    label: { from: first.toISOString(), to: new Date(currentHour.getTime() + HOUR_MS).toISOString() },
  };
}

/** `count` consecutive hour buckets ending with the one `lastHourStart` begins. */
export function hourBuckets(lastHourStart: Date, count: number): string[] {
  const last = startOfHour(lastHourStart).getTime();
  return Array.from({ length: count }, (_, i) => hourBucket(new Date(last - (count - 1 - i) * HOUR_MS)));
}

/** Every day bucket from `from` to `to`, both included (`YYYY-MM-DD` strings, from ≤ to). */
export function dayBuckets(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00.000Z`);
  const end = Date.parse(`${to}T00:00:00.000Z`);
  const days: string[] = [];
  for (let t = start; t <= end; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
