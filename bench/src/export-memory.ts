/**
 * `node bench/dist/export-memory.js [N]`: the peak memory of reporting while it streams GET /export of N
 * and of 5N raw events (default N = 8,000: the test engine sorts in memory, and past some 40,000 documents it answers the first batch later than reporting waits), each in a fresh reporting process (its own VmHWM, the kernel's
 * peak RSS), with a client that reads as fast as it can. Prints both peaks, their growth over the idle
 * process, and the ratio of the peaks; the target is at most 1.10 (constant memory for any size). Exits 1
 * when the ratio is above it or a row is missing. Starts its own MongoDB test engine and redis-server and
 * stops them, and every process it started, at the end. Against a real MongoDB the figures would differ in
 * the database's share only: reporting's side (cursor batches of 500, bounded stream buffers) is the same.
 */
import http from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import mongoose from 'mongoose';
import { dayBucket, hourBucket } from '@analytics/common';
import { getFreePort, mongoUriWithDatabase, startTestMongo, startTestRedis } from '@analytics/testkit';
import { killLeftovers, rssBytes, spawnNode, waitForReady, type NodeChild } from './processes';

const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef';
const SITE_ID = 'export-bench';
const DAY = '2026-11-20';
const INSERT_CHUNK = 5000;
const TARGET_RATIO = 1.1;
const REPORTING = path.resolve(__dirname, '..', '..', 'reporting_service', 'dist', 'index.js');
/** As reporting's `npm start` runs it. */
const REPORTING_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'];

interface Measurement {
  events: number;
  rows: number;
  bytes: number;
  idleRss: number;
  peakRss: number;
  seconds: number;
}

/** The kernel's high-water mark of the process's resident set (Linux /proc). */
function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Realistic rows: every column filled, five props, spread over one UTC day. */
function buildEvents(count: number, offset: number): Record<string, unknown>[] {
  const start = Date.parse(`${DAY}T00:00:00.000Z`);
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const timestamp = new Date(start + Math.floor((i * 86_400_000) / 1_000_000));
    return {
      site_id: SITE_ID,
      event_id: `ev-${i.toString().padStart(8, '0')}`,
      event_type: i % 5 === 0 ? 'signup' : 'page_view',
      path: `/products/${i % 997}/details`,
      user_id: `user-${i % 5000}`,
      visitor: `u:user-${i % 5000}`,
      referrer: 'news.example.com/articles/2026/some-article',
      source: 'news.example.com',
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'winter-sale',
      device: 'desktop',
      browser: 'Firefox',
      os: 'Linux',
      country: 'DE',
      props: [
        { key: 'plan', value: 'pro' },
        { key: 'price', value: 49.5 },
        { key: 'trial', value: false },
        { key: 'ref', value: '=not-a-formula' },
        { key: 'note', value: 'a value with "quotes", commas and more text to make the row realistic' },
      ],
      timestamp,
      hour: hourBucket(timestamp),
      day: dayBucket(timestamp),
      received_at: timestamp,
      request_id: 'bench',
    };
  });
}

async function exportOnce(port: number): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/export?site_id=${SITE_ID}&from=${DAY}&to=${DAY}&format=csv`,
        headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (c: string) => (body += c));
          res.on('end', () => reject(new Error(`export answered ${res.statusCode}: ${body}`)));
          return;
        }
        let bytes = 0;
        let lineEnds = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lineEnds += 1;
        });
        // Every row is one line (no cell of these events holds a line break), plus the header.
        res.on('end', () => resolve({ rows: lineEnds - 1, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

async function measure(events: number, mongoUri: string, redisUrl: string): Promise<Measurement> {
  const database = `export_bench_${events}_${Date.now()}`;
  const uri = mongoUriWithDatabase(mongoUri, database);
  const connection = await mongoose.createConnection(uri, { autoCreate: false }).asPromise();
  const collection = connection.collection('events');
  for (let offset = 0; offset < events; offset += INSERT_CHUNK) {
    await collection.insertMany(buildEvents(Math.min(INSERT_CHUNK, events - offset), offset));
  }
  await connection.collection('sites').insertOne({
    site_id: SITE_ID,
    name: SITE_ID,
    write_key_hash: 'a'.repeat(64),
    read_key_hash: 'b'.repeat(64),
    created_at: new Date(),
    updated_at: new Date(),
    timezone: 'Etc/UTC',
  });
  await connection.close();

  const port = await getFreePort();
  let reporting: NodeChild | undefined;
  try {
    reporting = spawnNode(
      'reporting_service',
      REPORTING,
      {
        NODE_ENV: 'production',
        PORT: String(port),
        METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
        // Index builds off (common/src/db/mongo.ts turns autoIndex off for secondary reads; a standalone
        // server answers them itself): the test engine builds the unique event index in quadratic time,
        // which would measure the engine, not the export. Its in-memory sort is what it runs instead.
        MONGODB_URI: `${uri}?readPreference=secondaryPreferred`,
        REDIS_URL: redisUrl,
        ADMIN_API_KEY,
      },
      REPORTING_NODE_FLAGS,
    );
    await waitForReady(reporting);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idleRss = rssBytes(reporting.pid);
    const started = Date.now();
    const { rows, bytes } = await exportOnce(port);
    return {
      events,
      rows,
      bytes,
      idleRss,
      peakRss: peakRssBytes(reporting.pid),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await reporting?.stop();
  }
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const n = Number(process.argv[2] ?? process.env.EXPORT_BENCH_N ?? 8000);
  if (!Number.isInteger(n) || n < 1) throw new Error('N must be a positive integer');
  const mongo = await startTestMongo();
  const redis = await startTestRedis();
  try {
    const small = await measure(n, mongo.uri, redis.url);
    const large = await measure(5 * n, mongo.uri, redis.url);
    for (const m of [small, large]) {
      process.stdout.write(
        `export of ${m.events} events: ${m.rows} rows, ${mib(m.bytes)} in ${m.seconds.toFixed(1)} s; ` +
          `reporting RSS idle ${mib(m.idleRss)}, peak ${mib(m.peakRss)} (+${mib(m.peakRss - m.idleRss)})\n`,
      );
    }
    const ratio = large.peakRss / small.peakRss;
    process.stdout.write(
      `peak RSS ratio 5N/N = ${ratio.toFixed(3)} (target at most ${TARGET_RATIO.toFixed(2)}): ` +
        `${ratio <= TARGET_RATIO ? 'ok' : 'ABOVE TARGET'}\n`,
    );
    const complete = small.rows === small.events && large.rows === large.events;
    if (!complete) process.stdout.write('rows missing from an export\n');
    return ratio <= TARGET_RATIO && complete ? 0 : 1;
  } finally {
    await mongo.stop();
    await redis.stop();
    killLeftovers();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`export-memory failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    killLeftovers();
    process.exit(1);
  },
);
