/**
 * Time buckets of the rollups, as UTC strings that sort and compare as text:
 * an hour is `YYYY-MM-DDTHH`, a day `YYYY-MM-DD`.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function hourBucket(at: Date): string {
  return at.toISOString().slice(0, 13);
}

export function dayBucket(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The start of the UTC hour `at` falls in. */
export function startOfHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
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
