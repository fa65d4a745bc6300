import { HOUR_MS, dayBuckets, hourBuckets, startOfHour, type RollupPeriod } from '@analytics/common';
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
