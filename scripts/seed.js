#!/usr/bin/env node
/* global fetch, setTimeout, AbortSignal, URL */
/**
 * Seed and load generator: sends realistic events to ingestion at a steady rate, then prints what was
 * accepted per UTC day (page views, unique users, top paths) so the numbers can be checked in GET /stats.
 *
 *   npm run seed -- --site <site_id> --key <write key> [--count 1000] [--rate 50] [--days 1]
 *                   [--url http://localhost:3000] [--batch-share 0.5] [--users 200] [--metrics 200] [--json]
 *
 * Every event carries its own event_id, so a 429 or 503 is retried (after Retry-After) with the same ids and
 * is counted once. Only events answered 202 appear in the summary. Then it sends --metrics custom-metric
 * points (POST /metrics, batches of up to 100, each with its own metric_id) and prints their count, sum,
 * min and max per name, to compare with GET /metrics/query.
 *
 * This file: the options, pacing and sending. The events and the expected figures: seed-events.js; the
 * progress and the summary: seed-report.js.
 */
'use strict';

const { randomUUID } = require('node:crypto');
const { makeEvent, summarise } = require('./seed-events');
const { createProgress, printSummary } = require('./seed-report');

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
  --metrics M         custom-metric points to send after the events, 0-100000 (default 200; 0: none)
  --json              print the summary as JSON instead of tables
  --help              this text

The per-IP limit of ingestion (RATE_LIMIT_IP_PER_MINUTE, 600 requests a minute by default) counts requests,
not events: single events above ~10/s get 429 and are retried after Retry-After. Use a larger --batch-share,
or run ingestion with RATE_LIMIT_IP_PER_MINUTE=0, for faster loads.`;

const MAX_ATTEMPTS = 10;
const MAX_IN_FLIGHT = 16;
const REQUEST_TIMEOUT_MS = 10_000;

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
    metrics: 200,
    json: false,
  };
  const numeric = {
    '--count': ['count', 1, 1_000_000, true],
    '--rate': ['rate', 0.1, 20_000, false],
    '--days': ['days', 1, 7, false],
    '--batch-share': ['batchShare', 0, 1, false],
    '--batch-size': ['batchSize', 1, 500, true],
    '--users': ['users', 1, 1_000_000, true],
    '--metrics': ['metrics', 0, 100_000, true],
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Sender {
  constructor(opts) {
    this.opts = opts;
    this.stats = { accepted: 0, rejected: 0, retries: 0, requests: 0, rejections: new Map() };
    this.acceptedEvents = [];
  }

  /** Posts one request, retrying 429/503/network errors with the same body (same event ids). */
  async send(events, metrics = false) {
    const single = events.single === true;
    const path = metrics ? '/metrics' : single ? '/event' : '/events';
    const body = JSON.stringify(metrics ? { metrics: events } : single ? events[0] : { events });
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
        if (metrics) {
          this.metricsAccepted = (this.metricsAccepted || []).concat(events);
          return;
        }
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

const METRIC_NAMES = ['checkout.duration_ms', 'api.latency_ms'];
const METRIC_REGIONS = ['eu', 'us', 'ap'];

/**
 * Custom-metric points over the same days as the events, each with its own metric_id (so a retried batch
 * counts once); resolves to their figures per name, as GET /metrics/query should answer them.
 */
async function sendMetrics(opts, runId, sender) {
  const now = Date.now();
  const points = Array.from({ length: opts.metrics }, (_, i) => ({
    site_id: opts.site,
    name: METRIC_NAMES[i % METRIC_NAMES.length],
    value: Math.round((20 + Math.random() * 400) * 100) / 100,
    metric_id: `seed-${runId}-m${i}`,
    timestamp: new Date(now - Math.random() * opts.days * 86_400_000 + 1000).toISOString(),
    tags: { region: METRIC_REGIONS[i % METRIC_REGIONS.length] },
  }));
  for (let i = 0; i < points.length; i += 100) await sender.send(points.slice(i, i + 100), true);
  const accepted = sender.metricsAccepted || [];
  const byName = new Map();
  for (const point of accepted) {
    const figures = byName.get(point.name) || { count: 0, sum: 0, min: Infinity, max: -Infinity };
    figures.count += 1;
    figures.sum += point.value;
    figures.min = Math.min(figures.min, point.value);
    figures.max = Math.max(figures.max, point.value);
    byName.set(point.name, figures);
  }
  const byNameList = [...byName].map(([name, f]) => ({ name, ...f, sum: Math.round(f.sum * 100) / 100 }));
  return { sent: points.length, accepted: accepted.length, by_name: byNameList };
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

  const metrics = opts.metrics > 0 && !stopping ? await sendMetrics(opts, runId, sender) : undefined;
  // In --json, one document: the metrics' figures join the events' report.
  const summary = summarise(sender.acceptedEvents);
  printSummary(
    opts,
    sender,
    opts.json && metrics ? { ...summary, metrics } : summary,
    (Date.now() - started) / 1000,
  );
  if (metrics && !opts.json) {
    console.log(
      `\nCustom metrics: ${metrics.accepted} of ${metrics.sent} points accepted (GET /metrics/query):`,
    );
    for (const f of metrics.by_name)
      console.log(`  ${f.name}: count ${f.count}, sum ${f.sum}, min ${f.min}, max ${f.max}`);
  }
  process.exitCode = sender.stats.rejected > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(`seed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
