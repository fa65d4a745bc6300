import { DateTime } from 'luxon';
import type { UtcRange } from '../queries/export-events.query';

/**
 * Calendar days and hours of a site's zone, with luxon (the runtime's time-zone data): one place for the
 * export's and users' day ranges and the metric series. The query API uses luxon directly in
 * query/query-plan.service.ts. Every offset in use is a multiple of 15 minutes; DST days are 23 or 25
 * hours long, and a day whose midnight is skipped starts at its first existing instant.
 */
export type { UtcRange };

/** `YYYY-MM-DD` plus `days`, by the calendar. */
export function addDays(day: string, days: number): string {
  return DateTime.fromISO(day, { zone: 'utc' }).plus({ days }).toISODate()!;
}

/** The day after `day` (`YYYY-MM-DD`). */
export function nextDay(day: string): string {
  return addDays(day, 1);
}

/** The first instant (UTC ms) of the local day `day` in `zone`. */
export function localDayStart(zone: string, day: string): number {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  if (!start.isValid) throw new Error(`not a day in ${zone}: ${day}`);
  return start.toMillis();
}

/** The first instant of a calendar day (`YYYY-MM-DD`) in the zone, as a Date. */
export function startOfZoneDay(day: string, zone: string): Date {
  return new Date(localDayStart(zone, day));
}

/** Inclusive days `from`..`to` of the zone as a UTC range. */
export function zoneDayRange(from: string, to: string, zone: string): UtcRange {
  return { start: startOfZoneDay(from, zone), end: startOfZoneDay(nextDay(to), zone) };
}

/** ISO-8601 local time with the offset, e.g. `2026-11-01T01:00:00-04:00` (`+00:00` for UTC). */
export function localIsoLabel(zone: string, atMs: number): string {
  return DateTime.fromMillis(atMs, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
}

/** Whether `atMs` is the start of a local hour. */
export function isLocalHourStart(zone: string, atMs: number): boolean {
  const local = DateTime.fromMillis(atMs, { zone });
  return local.minute === 0 && local.second === 0 && local.millisecond === 0;
}
