/**
 * Local time of a site's zone, from the runtime's time-zone data (Intl): offsets, the UTC start of a
 * local day, and labels. Every offset in use is a multiple of 15 minutes, so local days and hours start
 * on UTC quarter hours; DST days are 23 or 25 hours long, and a day whose midnight is skipped starts at
 * its first existing instant.
 */
const MINUTE_MS = 60_000;
const QUARTER_MS = 15 * MINUTE_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at `atMs`, in minutes (east positive). */
export function offsetMinutesAt(zone: string, atMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(zone).formatToParts(new Date(atMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - Math.floor(atMs / 1000) * 1000) / MINUTE_MS);
}

/** The local wall time at `atMs` as if it were UTC (for reading its fields with getUTC*). */
function wallMs(zone: string, atMs: number): number {
  return atMs + offsetMinutesAt(zone, atMs) * MINUTE_MS;
}

/** `YYYY-MM-DD` plus `days`. */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The first instant (UTC ms, a quarter hour) whose local date is `day` or later. */
export function localDayStart(zone: string, day: string): number {
  const midnight = Date.parse(`${day}T00:00:00.000Z`);
  const guess =
    midnight - offsetMinutesAt(zone, midnight - offsetMinutesAt(zone, midnight) * MINUTE_MS) * MINUTE_MS;
  // Step from a little before the guess to the first quarter hour of that date (exact at DST changes).
  let at = Math.floor((guess - 3 * HOUR_MS) / QUARTER_MS) * QUARTER_MS;
  while (new Date(wallMs(zone, at)).toISOString().slice(0, 10) < day) at += QUARTER_MS;
  return at;
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** ISO-8601 local time with the offset, e.g. `2026-11-01T01:00:00-04:00`. */
export function localIsoLabel(zone: string, atMs: number): string {
  const offset = offsetMinutesAt(zone, atMs);
  const wall = new Date(atMs + offset * MINUTE_MS).toISOString().slice(0, 19);
  return `${wall}${offsetText(offset)}`;
}

/** Whether `atMs` is the start of a local hour. */
export function isLocalHourStart(zone: string, atMs: number): boolean {
  return wallMs(zone, atMs) % HOUR_MS === 0;
}
