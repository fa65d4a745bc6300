#!/usr/bin/env node
/* global fetch, setTimeout, AbortSignal, URL */
/**
 * Seed and load generator: sends realistic events to ingestion at a steady rate, then prints what was
 * accepted per UTC day (page views, unique users, top paths) so the numbers can be checked in GET /stats.
 *
 *   npm run seed -- --site <site_id> --key <write key> [--count 1000] [--rate 50] [--days 1]
 *                   [--url http://localhost:3000] [--batch-share 0.5] [--users 200] [--json]
 *
 * Every event carries its own event_id, so a 429 or 503 is retried (after Retry-After) with the same ids and
 * is counted once. Only events answered 202 appear in the summary.
 */
'use strict';

const { randomUUID } = require('node:crypto');

const USAGE = `Usage: npm run seed -- --site <site_id> --key <write key> [options]

  --site ID           site_id of a registered site (required)
  --key KEY           its write key (required)
  --count N           events to send (default 1000, at most 1000000)
  --rate R            events per second, about (default 50, at most 20000)
  --days D            spread timestamps over the last D days, 1-7 (default 1; ingestion refuses older events)
  --url URL           ingestion base URL (default http://localhost:3000)
  --batch-share S     share of events sent through POST /events batches, 0-1 (default 0.5)
  --batch-size B      events per batch, 1-500 (default 25)
  --users U           size of the user pool (default 200)
  --json              print the summary as JSON instead of tables
  --help              this text

The per-IP limit of ingestion (RATE_LIMIT_IP_PER_MINUTE, 600 requests a minute by default) counts requests,
not events: single events above ~10/s get 429 and are retried after Retry-After. Use a larger --batch-share,
or run ingestion with RATE_LIMIT_IP_PER_MINUTE=0, for faster loads.`;

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
const MAX_ATTEMPTS = 10;
const MAX_IN_FLIGHT = 16;
const REQUEST_TIMEOUT_MS = 10_000;
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

function fail(message) {
  console.error(`seed: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    count: 1000,
    rate: 50,
    days: 1,
    url: 'http://localhost:3000',
    batchShare: 0.5,
    batchSize: 25,
    users: 200,
    json: false,
  };
  const numeric = {
    '--count': ['count', 1, 1_000_000, true],
    '--rate': ['rate', 0.1, 20_000, false],
    '--days': ['days', 1, 7, false],
    '--batch-share': ['batchShare', 0, 1, false],
    '--batch-size': ['batchSize', 1, 500, true],
    '--users': ['users', 1, 1_000_000, true],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) fail(`${flag} needs a value`);
      return argv[++i];
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--json') opts.json = true;
    else if (flag === '--site') opts.site = value();
    else if (flag === '--key') opts.key = value();
    else if (flag === '--url') opts.url = value().replace(/\/+$/, '');
    else if (numeric[flag]) {
      const [name, min, max, integer] = numeric[flag];
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        fail(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not "${raw}"`);
      }
      opts[name] = n;
    } else fail(`unknown option ${arg}`);
  }
  if (!opts.site || !/^[A-Za-z0-9._-]{1,64}$/.test(opts.site))
    fail('--site is required: 1-64 of A-Z a-z 0-9 . _ -');
  if (!opts.key) fail('--key is required (the write key from POST /sites)');
  try {
    new URL(opts.url);
  } catch {
    fail(`--url is not a URL: ${opts.url}`);
  }
  return opts;
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Sender {
  constructor(opts) {
    this.opts = opts;
    this.stats = { accepted: 0, rejected: 0, retries: 0, requests: 0, rejections: new Map() };
    this.acceptedEvents = [];
  }

  /** Posts one request, retrying 429/503/network errors with the same body (same event ids). */
  async send(events) {
    const single = events.single === true;
    const path = single ? '/event' : '/events';
    const body = JSON.stringify(single ? events[0] : { events });
    for (let attempt = 1; ; attempt++) {
      let status;
      let retryAfter = 1;
      let text;
      try {
        this.stats.requests++;
        const res = await fetch(`${this.opts.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': this.opts.key },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = res.status;
        text = await res.text();
        const header = Number(res.headers.get('retry-after'));
        if (Number.isFinite(header) && header > 0) retryAfter = Math.min(header, 60);
      } catch (error) {
        status = 0;
        text = error instanceof Error ? error.message : String(error);
      }
      if (status === 202) {
        this.stats.accepted += events.length;
        for (const e of events) this.acceptedEvents.push(e);
        return;
      }
      const retryable = status === 0 || status === 429 || status === 503;
      if (retryable && attempt < MAX_ATTEMPTS) {
        this.stats.retries++;
        await sleep(retryAfter * 1000);
        continue;
      }
      this.stats.rejected += events.length;
      let code = status === 0 ? `network error (${text})` : `${status}`;
      try {
        const parsed = JSON.parse(text);
        if (parsed && parsed.code) code = `${status} ${parsed.code}: ${parsed.error}`;
      } catch {
        // not JSON: keep the status
      }
      this.stats.rejections.set(code, (this.stats.rejections.get(code) || 0) + events.length);
      return;
    }
  }
}

function createProgress(total) {
  if (!process.stderr.isTTY) {
    let lastShown = -1;
    return {
      update(done, extra) {
        const tenth = Math.floor((done / total) * 10);
        if (tenth !== lastShown) {
          lastShown = tenth;
          console.error(
            `seed: ${done}/${total} events (${extra.accepted} accepted, ${extra.retries} retries)`,
          );
        }
      },
      stop() {},
    };
  }
  let cliProgress;
  try {
    cliProgress = require('cli-progress');
  } catch {
    cliProgress = null;
  }
  if (!cliProgress) {
    return {
      update(done, extra) {
        process.stderr.write(
          `\rseed: ${done}/${total} events, ${extra.accepted} accepted, ${extra.retries} retries`,
        );
      },
      stop() {
        process.stderr.write('\n');
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        'seed [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | accepted {accepted} | retries {retries} | ETA {eta}s',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { accepted: 0, retries: 0, rate: 0 });
  return {
    update(done, extra) {
      const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
      bar.update(done, { ...extra, rate });
    },
    stop() {
      bar.stop();
    },
  };
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

function printSummary(opts, sender, summary, seconds) {
  const { stats } = sender;
  const report = {
    site_id: opts.site,
    accepted: stats.accepted,
    rejected: stats.rejected,
    requests: stats.requests,
    retries: stats.retries,
    seconds: Number(seconds.toFixed(1)),
    rejections: Object.fromEntries(stats.rejections),
    ...summary,
  };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(
    `\nSent to ${opts.url}: ${stats.accepted} events accepted (202), ${stats.rejected} rejected, ` +
      `${stats.requests} requests, ${stats.retries} retries, ${report.seconds} s.`,
  );
  for (const [reason, n] of stats.rejections) console.log(`  rejected ${n}: ${reason}`);
  console.log('\nPer UTC day (what GET /stats?date=<day> should answer once the processor has caught up):\n');
  console.log('date        events  total_views  unique_users  top paths');
  for (const d of summary.days) {
    const paths = d.top_paths
      .slice(0, 5)
      .map((p) => `${p.path} ${p.views}`)
      .join(', ');
    console.log(
      `${d.date}  ${String(d.events).padStart(6)}  ${String(d.total_views).padStart(11)}  ${String(d.unique_users).padStart(12)}  ${paths}`,
    );
  }
  if (summary.range) {
    const r = summary.range;
    console.log(
      `\nWhole range ${r.from}..${r.to}: total_views ${r.total_views}, unique_users ${r.unique_users}` +
        ` (a user seen on several days counts once)`,
    );
    console.log(`top_paths: ${r.top_paths.map((p) => `${p.path} ${p.views}`).join(', ')}`);
    console.log(
      `\nCheck: curl -s -H "Authorization: Bearer $READ_KEY" ` +
        `'<reporting>/stats?site_id=${opts.site}&from=${r.from}&to=${r.to}'`,
    );
    console.log('These figures count only this run: events already stored for the site add to /stats.');
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const runId = randomUUID().slice(0, 8);
  const sender = new Sender(opts);
  const progress = createProgress(opts.count);
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
    console.error('\nseed: stopping; waiting for the requests in flight');
  });

  const started = Date.now();
  const inFlight = new Set();
  let generated = 0;
  let pendingBatch = [];
  let done = 0;

  const dispatch = async (events) => {
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const promise = sender.send(events).then(() => {
      inFlight.delete(promise);
      done += events.length;
      progress.update(done, { accepted: sender.stats.accepted, retries: sender.stats.retries });
    });
    inFlight.add(promise);
  };

  while (generated < opts.count && !stopping) {
    // Pace by events: event number n leaves at about n / rate seconds.
    const due = started + (generated / opts.rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const event = makeEvent(opts, runId, generated++);
    if (Math.random() < opts.batchShare) {
      pendingBatch.push(event);
      if (pendingBatch.length >= opts.batchSize) {
        await dispatch(pendingBatch);
        pendingBatch = [];
      }
    } else {
      const single = [event];
      single.single = true;
      await dispatch(single);
    }
  }
  if (pendingBatch.length > 0) await dispatch(pendingBatch);
  await Promise.all(inFlight);
  progress.stop();

  printSummary(opts, sender, summarise(sender.acceptedEvents), (Date.now() - started) / 1000);
  process.exitCode = sender.stats.rejected > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(`seed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
