import type { UtcRange } from '../queries/export-events.query';

/*
 * Days of a site's calendar as UTC instants: the first instant of `from` and the first instant after
 * `to`, in the site's IANA zone (23- and 25-hour days at DST changes, offsets such as +05:45 exact).
 */
export type { UtcRange };

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at `instantMs`, in milliseconds (east positive). */
export function zoneOffsetMs(timeZone: string, instantMs: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** The first instant of a calendar day (`YYYY-MM-DD`) in the zone. */
export function startOfZoneDay(day: string, timeZone: string): Date {
  const match = DAY_PATTERN.exec(day);
  if (!match) throw new Error(`not a day: ${day}`);
  const midnightAsUtc = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  // Two rounds settle it: the offset at the guess, then the offset at the corrected instant.
  let instant = midnightAsUtc - zoneOffsetMs(timeZone, midnightAsUtc);
  instant = midnightAsUtc - zoneOffsetMs(timeZone, instant);
  return new Date(instant);
}

/** The day after `day` (`YYYY-MM-DD`), by the calendar. */
export function nextDay(day: string): string {
  const at = new Date(`${day}T00:00:00.000Z`);
  at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString().slice(0, 10);
}

/** Inclusive days `from`..`to` of the zone as a UTC range. */
export function zoneDayRange(from: string, to: string, timeZone: string): UtcRange {
  return { start: startOfZoneDay(from, timeZone), end: startOfZoneDay(nextDay(to), timeZone) };
}
