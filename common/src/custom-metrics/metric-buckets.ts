/**
 * Time buckets of the metric rollups, all in UTC and all named by their start as `YYYY-MM-DDTHH:MM`
 * (so they sort as text): a minute (`m`), a quarter hour (`q`), an hour (`h`) and a day (`d`). Every UTC
 * offset in use is a multiple of 15 minutes, so any site zone's hours and days are exact unions of these
 * buckets (`coverRange`), and a minute of any zone is a UTC minute.
 */
export const METRIC_PERIODS = ['m', 'q', 'h', 'd'] as const;
export type MetricPeriod = (typeof METRIC_PERIODS)[number];

export const MINUTE_MS = 60_000;
export const METRIC_PERIOD_MS: Readonly<Record<MetricPeriod, number>> = Object.freeze({
  m: MINUTE_MS,
  q: 15 * MINUTE_MS,
  h: 60 * MINUTE_MS,
  d: 24 * 60 * MINUTE_MS,
});

/** The UTC start of the bucket of `period` that `atMs` falls in. */
export function bucketStart(period: MetricPeriod, atMs: number): number {
  const size = METRIC_PERIOD_MS[period];
  return Math.floor(atMs / size) * size;
}

/** A bucket's name: its UTC start as `YYYY-MM-DDTHH:MM`. */
export function bucketKey(startMs: number): string {
  return new Date(startMs).toISOString().slice(0, 16);
}

/** Every bucket a point at `atMs` counts in, one per period. */
export function bucketsOf(atMs: number): { period: MetricPeriod; bucket: string }[] {
  return METRIC_PERIODS.map((period) => ({ period, bucket: bucketKey(bucketStart(period, atMs)) }));
}

/**
 * The fewest buckets whose union is exactly `[startMs, endMs)` (both whole minutes): greedily the largest
 * aligned bucket that fits. A day in Asia/Kathmandu (+05:45, starting 18:15 UTC) is 3 quarters, 23 hours
 * and 1 quarter; a day of any zone is at most a few dozen buckets.
 */
export function coverRange(startMs: number, endMs: number): { period: MetricPeriod; bucket: string }[] {
  if (startMs % MINUTE_MS !== 0 || endMs % MINUTE_MS !== 0) {
    throw new RangeError('a range of metric buckets starts and ends on whole minutes');
  }
  const pieces: { period: MetricPeriod; bucket: string }[] = [];
  let at = startMs;
  while (at < endMs) {
    let chosen: MetricPeriod = 'm';
    for (const period of ['d', 'h', 'q'] as const) {
      const size = METRIC_PERIOD_MS[period];
      if (at % size === 0 && at + size <= endMs) {
        chosen = period;
        break;
      }
    }
    pieces.push({ period: chosen, bucket: bucketKey(at) });
    at += METRIC_PERIOD_MS[chosen];
  }
  return pieces;
}

/** A tag set's canonical text: its pairs sorted by key (JSON of `[key, value]` pairs). */
export function tagSetKey(tags: Readonly<Record<string, string | number | boolean>> | undefined): string {
  if (!tags) return '[]';
  return JSON.stringify(
    Object.keys(tags)
      .sort()
      .map((key) => [key, tags[key]]),
  );
}

/**
 * A tag as a filter matches it: `key`, a NUL, and the value as text (numbers and booleans as their JSON
 * text), so `tag.plan=pro` and `tag.n=3` are plain equality on one array element.
 */
export function tagPair(key: string, value: string | number | boolean): string {
  return `${key}\u0000${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

export function tagPairsOf(tags: Readonly<Record<string, string | number | boolean>> | undefined): string[] {
  if (!tags) return [];
  return Object.keys(tags)
    .sort()
    .map((key) => tagPair(key, tags[key]!));
}
