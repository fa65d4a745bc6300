/** How numbers, changes and time labels read on the dashboard. Pure functions. */

export type MetricName = 'visitors' | 'visits' | 'pageviews' | 'bounce_rate' | 'visit_duration';

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  if (Math.abs(value) >= 100_000) {
    return new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
  }
  return integer.format(value);
}

/** Seconds as `42s`, `3m 05s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatMetric(metric: MetricName, value: number | null): string {
  if (value === null) return '–';
  switch (metric) {
    case 'bounce_rate':
      return `${oneDecimal.format(value)}%`;
    case 'visit_duration':
      return formatDuration(value);
    default:
      return formatCount(value);
  }
}

export interface ChangeText {
  text: string;
  /** For a screen reader: the same in words. */
  spoken: string;
  /** good, bad or neutral, for the colour: a higher bounce rate is bad, more of anything else is good. */
  tone: 'good' | 'bad' | 'neutral';
}

/** The API's `change`: percent, one decimal, null when the old value was 0; for bounce rate, points. */
export function formatChange(metric: MetricName, change: number | null | undefined): ChangeText {
  if (change === null || change === undefined) {
    return { text: '– was 0 before', spoken: 'it was zero in the previous period', tone: 'neutral' };
  }
  const unit = metric === 'bounce_rate' ? ' pts' : '%';
  const spokenUnit = metric === 'bounce_rate' ? ' points' : ' percent';
  if (change === 0)
    return { text: `0${unit}`, spoken: 'no change from the previous period', tone: 'neutral' };
  const up = change > 0;
  const magnitude = oneDecimal.format(Math.abs(change));
  const better = metric === 'bounce_rate' ? !up : up;
  return {
    text: `${up ? '▲' : '▼'} ${magnitude}${unit}`,
    spoken: `${up ? 'up' : 'down'} ${magnitude}${spokenUnit} from the previous period`,
    tone: better ? 'good' : 'bad',
  };
}

export type Granularity = 'hour' | 'day' | 'month';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A time label of the API (already in the site's zone) for an axis: hours `"2026-11-01T01:00:00-04:00"`
 * as `01:00`, days `"2026-03-29"` as `29 Mar`, months `"2026-03-01"` as `Mar 2026`. Read from the text,
 * never through the browser's own zone.
 */
export function formatTimeLabel(label: string, granularity: Granularity): string {
  const [datePart = '', timePart = ''] = label.split('T');
  const [year = '', month = '1', day = '1'] = datePart.split('-');
  const monthName = MONTHS[Number(month) - 1] ?? month;
  if (granularity === 'hour') return timePart.slice(0, 5) || datePart;
  if (granularity === 'month') return `${monthName} ${year}`;
  return `${Number(day)} ${monthName}`;
}

/** The range the API resolved (start inclusive, end exclusive), in the site's zone: `1 Dec – 7 Dec 2026`. */
export function formatRange(range: [string, string] | undefined, timeZone: string): string {
  if (!range) return '';
  const start = new Date(range[0]);
  const lastMoment = new Date(new Date(range[1]).getTime() - 1);
  if (Number.isNaN(start.getTime()) || Number.isNaN(lastMoment.getTime())) return '';
  const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric', timeZone };
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', options);
  } catch {
    format = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });
  }
  const a = format.format(start);
  const b = format.format(lastMoment);
  return a === b ? a : `${a} – ${b}`;
}

let regionNames: Intl.DisplayNames | undefined;
/** `DE` as `Germany (DE)`, when the browser knows the name. */
export function countryName(code: string): string {
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    const name = regionNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}
