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
