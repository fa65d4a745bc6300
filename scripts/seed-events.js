/**
 * What `npm run seed` (scripts/seed.js) sends and what it expects GET /stats to show: realistic events
 * (weighted paths, referrers, custom events, a skewed pool of returning users) and, for the ones
 * ingestion accepted, the per-UTC-day and whole-range figures.
 */
'use strict';

const PATHS = [
  ['/', 30],
  ['/pricing', 14],
  ['/pricing?plan=pro#faq', 4],
  ['/blog', 10],
  ['/blog/how-we-count-unique-users', 6],
  ['/blog/how-we-count-unique-users?utm_source=newsletter', 3],
  ['/docs', 8],
  ['/docs/getting-started', 7],
  ['/docs/api#post-event', 3],
  ['/about', 4],
  ['/contact', 3],
  ['/signup', 5],
  ['/products/42', 2],
  ['/Products/42', 1],
];
const REFERRERS = [
  ['', 40],
  ['https://www.google.com/', 30],
  ['https://news.ycombinator.com/', 8],
  ['https://twitter.com/', 7],
  ['https://www.bing.com/', 5],
  ['https://github.com/', 6],
  ['https://duckduckgo.com/', 4],
];
const CUSTOM_EVENTS = [
  [
    'signup',
    3,
    () => ({
      plan: pick([
        ['free', 6],
        ['pro', 3],
        ['team', 1],
      ]),
    }),
  ],
  ['add_to_cart', 4, () => ({ product_id: `p-${1 + Math.floor(Math.random() * 50)}`, price: 9.99, qty: 1 })],
  [
    'click:cta',
    5,
    () => ({
      label: pick([
        ['hero', 2],
        ['footer', 1],
      ]),
      above_fold: Math.random() < 0.7,
    }),
  ],
  ['download', 2, () => ({ file: 'whitepaper.pdf' })],
];
const PAGE_VIEW_SHARE = 0.85;
const ANONYMOUS_SHARE = 0.1;
const DAY_MS = 86_400_000;
/** Timestamps stay this far inside the accepted age, so a long run never sends a too-old event. */
const AGE_MARGIN_MS = 10 * 60_000;

function pick(weighted) {
  const total = weighted.reduce((sum, entry) => sum + entry[1], 0);
  let r = Math.random() * total;
  for (const entry of weighted) {
    r -= entry[1];
    if (r < 0) return entry[0];
  }
  return weighted[weighted.length - 1][0];
}

/** A new event stamped within the last `days` days of now (its own UTC hour is what /stats uses). */
function makeEvent(opts, runId, index) {
  const now = Date.now();
  const span = opts.days * DAY_MS - AGE_MARGIN_MS;
  const timestamp = new Date(now - Math.floor(Math.random() * span)).toISOString();
  const event = { site_id: opts.site, event_id: `seed-${runId}-${index}`, timestamp };
  if (Math.random() < PAGE_VIEW_SHARE) {
    event.event_type = 'page_view';
    event.path = pick(PATHS);
    const referrer = pick(REFERRERS);
    if (referrer) event.referrer = referrer;
  } else {
    const kind = pick(CUSTOM_EVENTS.map((c) => [c, c[1]]));
    event.event_type = kind[0];
    event.props = kind[2]();
    if (Math.random() < 0.5) event.path = pick(PATHS);
  }
  if (Math.random() >= ANONYMOUS_SHARE) {
    // A skewed pool: a few users come back often, most rarely.
    const u = Math.floor(opts.users * Math.pow(Math.random(), 2));
    event.user_id = `user-${String(u + 1).padStart(5, '0')}`;
  }
  return event;
}

/** What /stats should show for each UTC day of the accepted events, and for the whole range. */
function summarise(events) {
  const days = new Map();
  const all = { page_views: 0, users: new Set(), paths: new Map() };
  for (const e of events) {
    const day = e.timestamp.slice(0, 10);
    if (!days.has(day)) days.set(day, { page_views: 0, users: new Set(), paths: new Map(), events: 0 });
    const d = days.get(day);
    d.events++;
    for (const bucket of [d, all]) {
      if (e.user_id) bucket.users.add(e.user_id);
      if (e.event_type === 'page_view') {
        bucket.page_views++;
        const path = e.path.split(/[?#]/)[0];
        bucket.paths.set(path, (bucket.paths.get(path) || 0) + 1);
      }
    }
  }
  const top = (paths) =>
    [...paths.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, 10)
      .map(([path, views]) => ({ path, views }));
  const perDay = [...days.keys()].sort().map((date) => {
    const d = days.get(date);
    return {
      date,
      events: d.events,
      total_views: d.page_views,
      unique_users: d.users.size,
      top_paths: top(d.paths),
    };
  });
  const dates = perDay.map((d) => d.date);
  return {
    days: perDay,
    range: dates.length
      ? {
          from: dates[0],
          to: dates[dates.length - 1],
          total_views: all.page_views,
          unique_users: all.users.size,
          top_paths: top(all.paths),
        }
      : null,
  };
}

module.exports = { makeEvent, summarise };
