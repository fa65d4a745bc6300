import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import { connectMongo } from '@analytics/common';
import { getFreePort, mongoUriWithDatabase, REPO_ROOT } from '@analytics/testkit';
import { MongoCommandProxy, type Worker } from './backlog';
import { getJson, runLoad, type LoadOptions } from './load';
import {
  Cleanup,
  cpuSeconds,
  rssBytes,
  spawnNode,
  waitForReady,
  type NodeChild,
  type RssSampler,
} from './processes';

/** How long and how hard each stage runs (ms, connections, events); docs/performance.md explains each. */
export const FULL = {
  warmupMs: 3000,
  durationMs: 10_000,
  /** Closed-loop connections for POST /event, the ceilings and the naive peer; 64 at a fixed rate. */
  connections: 32,
  openLoopConnections: 64,
  /** POST /events: `batchConnections` connections sending `batchSize`-event batches. */
  batchConnections: 8,
  batchSize: 100,
  naiveWorker: { warmupEvents: 100, events: 500 },
  /** Backlogs: new single events, new 100-event batches, re-delivered 100-event batches. */
  processor: { warmupEvents: 100, singles: 300, newBatches: 10, resentBatches: 100 },
  /** Sent at once to a running processor: `batches` requests of `batchSize` events. */
  drain: { batches: 16 },
  stats: { baseEvents: 100, factor: 5, durationMs: 5000, connections: 2 },
  /** POST /api/v2/query: timed requests per breakdown and site, after untimed ones (one at a time). */
  query: { warmupRuns: 3, runs: 25 },
  /** `durationMs` of re-delivered background events at `rate` per second, then `newEventsMs` of new ones. */
  freshness: { rate: 200, durationMs: 10_000, newEventsMs: 2000 },
};
export type Settings = typeof FULL;

/** The same loads with shorter windows and smaller volumes. */
export const QUICK: Settings = {
  ...FULL,
  warmupMs: 600,
  durationMs: 1500,
  naiveWorker: { warmupEvents: 50, events: 150 },
  processor: { ...FULL.processor, warmupEvents: 50, singles: 100, newBatches: 4, resentBatches: 30 },
  stats: { ...FULL.stats, baseEvents: 60, durationMs: 1000 },
  query: { warmupRuns: 2, runs: 7 },
  freshness: { ...FULL.freshness, durationMs: 2500, newEventsMs: 1000 },
};

export const QUEUE_NAME = 'bench-events';
export const REDIS_PREFIX = 'bench';
const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef';

export interface BenchContext {
  settings: Settings;
  redisUrl: string;
  redisPid: number | undefined;
  /** The test engine's PID (undefined with BENCH_MONGODB_URI). */
  mongoPid: number | undefined;
  mongoUri: string;
  redis: Redis;
  rss: RssSampler;
  rssIdle: Record<string, number>;
  /** Where `--profile` puts the .cpuprofile files (one folder per process and Node version). */
  profileDir: string | undefined;
  nodeLabel: string;
}

export type ServiceName = 'ingestion_service' | 'processor_service' | 'reporting_service' | 'cron_service';

const load = createRequire(__filename);
/** Where the services run from: this checkout, or another one's build for a before/after comparison. */
const SERVICES_ROOT = path.resolve(process.env.BENCH_SERVICES_ROOT ?? REPO_ROOT);

/** A module of a built service (`<service>/dist/...`), typed with `typeof import` of its source. */
export function loadBuilt<T>(relativePath: string): T {
  return load(path.join(SERVICES_ROOT, relativePath)) as T;
}

/** A database no other stage uses: the test engine slows down with every document a collection holds. */
export function databaseUri(ctx: BenchContext, label: string): string {
  return mongoUriWithDatabase(ctx.mongoUri, `bench_${label}_${randomBytes(3).toString('hex')}`);
}

/**
 * A fresh database, a connection of the bench's own to it, and the project's queue on the bench's Redis; all closed by the cleanup.
 */
export async function freshDatabase(ctx: BenchContext, cleanup: Cleanup, label: string) {
  const uri = databaseUri(ctx, label);
  const mongo: mongoose.Connection = await connectMongo(uri, { appName: 'bench' });
  cleanup.add('bench mongodb connection', () => mongo.close());
  const queue = new Queue(QUEUE_NAME, { connection: ctx.redis, prefix: REDIS_PREFIX });
  cleanup.add('queue', () => queue.close());
  return { uri, mongo, queue };
}

/**
 * The services as in production (`NODE_ENV=production`, `LOG_LEVEL=info`); ingestion with both rate
 * limits on but beyond what one client reaches (every request still pays for counting them in Redis).
 */
function serviceEnv(ctx: BenchContext, mongoUri: string, service: ServiceName): Record<string, string> {
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'info', REDIS_URL: ctx.redisUrl, MONGODB_URI: mongoUri };
  // `BENCH_SERVICE_ENV="NAME=value NAME2=value"`: more variables for every service (memory experiments).
  const extra = Object.fromEntries(
    (process.env.BENCH_SERVICE_ENV ?? '')
      .split(' ')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  return {
    ...env,
    ...extra,
    QUEUE_NAME,
    REDIS_PREFIX,
    ...(service === 'reporting_service' && { ADMIN_API_KEY }),
    ...(service === 'ingestion_service' && {
      RATE_LIMIT_IP_PER_MINUTE: '1000000000',
      RATE_LIMIT_SITE_PER_SECOND: '1000000000',
    }),
  };
}

export interface Started {
  child: NodeChild;
  port: number;
}

/** Starts a Node script with PORT set, waits for its 'ready' message, and watches its RSS. */
async function startScript(
  ctx: BenchContext,
  cleanup: Cleanup,
  label: string,
  script: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Started> {
  const port = await getFreePort();
  const profile = ctx.profileDir && path.join(ctx.profileDir, `${label}-node${ctx.nodeLabel}`);
  if (profile) mkdirSync(profile, { recursive: true });
  // `BENCH_HEAP_DIR=<dir>`: heap snapshots on SIGUSR2 (the ingestion stage takes them before and after
  // its loads), written to <dir>/<label>-node<version>/; with `BENCH_HEAP_REPORT=1`, diagnostic reports.
  const heapDir =
    process.env.BENCH_HEAP_DIR && path.join(process.env.BENCH_HEAP_DIR, `${label}-node${ctx.nodeLabel}`);
  if (heapDir) mkdirSync(heapDir, { recursive: true });
  const execArgv = [
    ...nodeFlags,
    // `BENCH_NODE_FLAGS="--trace-gc ..."`: more Node flags for every process (Node refuses some of them in
    // NODE_OPTIONS); with `BENCH_OUTPUT_DIR=<dir>` their output is kept in <dir>/<label>-node<version>.log.
    ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ...(heapDir
      ? process.env.BENCH_HEAP_REPORT === '1'
        ? // a diagnostic report (heap spaces committed and used, RSS, handles) instead of a snapshot
          ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${heapDir}`]
        : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`]
      : []),
  ];
  const child = spawnNode(label, script, { ...env, PORT: String(port) }, execArgv, {
    outputFile:
      process.env.BENCH_OUTPUT_DIR &&
      path.join(process.env.BENCH_OUTPUT_DIR, `${label}-node${ctx.nodeLabel}.log`),
  });
  cleanup.add(label, async () => {
    ctx.rss.unwatch(label);
    await child.stop();
  });
  await waitForReady(child);
  ctx.rssIdle[label] ??= rssBytes(child.pid);
  ctx.rss.watch(label, child.pid);
  return { child, port };
}

/**
 * A built service (`<service>/dist/index.js`) with the Node flags pm2 gives it (ecosystem.config.js takes
 * them from the service's own `npm start`), so the bench measures the memory settings users get.
 */
export function startService(ctx: BenchContext, cleanup: Cleanup, service: ServiceName, mongoUri: string) {
  const { apps } = load(path.join(SERVICES_ROOT, 'ecosystem.config.js')) as {
    apps: { name: string; node_args?: string }[];
  };
  const flags = apps.find((app) => app.name === service)?.node_args?.split(' ') ?? [];
  const entry = path.join(SERVICES_ROOT, service, 'dist', 'index.js');
  return startScript(ctx, cleanup, service, entry, serviceEnv(ctx, mongoUri, service), flags);
}

/** The processor service, its MongoDB connection through a proxy that counts its commands. */
export async function startProcessor(ctx: BenchContext, cleanup: Cleanup, mongoUri: string): Promise<Worker> {
  const proxy = new MongoCommandProxy(mongoUri);
  const proxied = await proxy.start();
  cleanup.add('mongodb proxy', () => proxy.stop());
  const { child } = await startService(ctx, cleanup, 'processor_service', proxied);
  return { pid: child.pid, proxy };
}

/** A bench peer (bench/dist/peers/<name>.js): the ceilings and the naive peer. */
export function startPeer(
  ctx: BenchContext,
  cleanup: Cleanup,
  label: string,
  peer: string,
  env: Record<string, string>,
) {
  return startScript(ctx, cleanup, label, path.join(REPO_ROOT, 'bench', 'dist', 'peers', `${peer}.js`), env);
}

type HealthRuntime = Record<
  'event_loop_delay_p50_ms' | 'event_loop_delay_p99_ms' | 'event_loop_delay_max_ms',
  number
>;

/** The event-loop delay a service's GET /health reports since the previous call (which resets it). */
async function eventLoopDelay(port: number) {
  const runtime = (await getJson<{ runtime?: HealthRuntime }>(port, '/health').catch(() => undefined))
    ?.runtime;
  if (!runtime) return undefined;
  const {
    event_loop_delay_p50_ms: p50,
    event_loop_delay_p99_ms: p99,
    event_loop_delay_max_ms: max,
  } = runtime;
  return { p50, p99, max };
}

export interface MeasureOptions extends Partial<Omit<LoadOptions, 'port'>> {
  requests: LoadOptions['requests'];
  warmupMs?: number;
  eventsPerRequest?: number;
  /** Read the server's event-loop delay over the window from its GET /health (services only). */
  health?: boolean;
}

/**
 * A warm-up run, then the measured run through autocannon, with the CPU of the server and redis-server
 * from /proc over the measured window (no cooperation from the server) and the bench's own (autocannon
 * runs in this process).
 */
export async function measureHttp(ctx: BenchContext, server: Started, options: MeasureOptions) {
  const { settings } = ctx;
  const run = {
    port: server.port,
    connections: settings.connections,
    durationMs: settings.durationMs,
    ...options,
  };
  const warmupMs = options.warmupMs ?? settings.warmupMs;
  if (warmupMs > 0) await runLoad({ ...run, durationMs: warmupMs });
  if (options.health) await eventLoopDelay(server.port);
  const cpu = (): Record<'server' | 'redis' | 'loadgen', number> => {
    const own = process.cpuUsage();
    const redis = ctx.redisPid === undefined ? 0 : cpuSeconds(ctx.redisPid);
    return { server: cpuSeconds(server.child.pid), redis, loadgen: (own.user + own.system) / 1e6 };
  };
  const before = cpu();
  const result = await runLoad(run);
  const after = cpu();
  const cores = (name: keyof typeof before): number => (after[name] - before[name]) / result.seconds;
  const perRequest = (name: keyof typeof before): number =>
    result.requests > 0 ? ((after[name] - before[name]) * 1e6) / result.requests : 0;
  return {
    connections: run.connections,
    /** Fixed or paced rate only: the rate asked for. */
    targetRate: run.overallRate ?? run.pacedRate,
    /** Responses per second in the measured window. */
    rate: result.rate,
    /** Events per second (batches: rate × batch size). */
    eventsPerSecond: result.rate * (options.eventsPerRequest ?? 1),
    latency: result.latency,
    /** Paced loads: how late the generator issued requests after they were due (ms). */
    sendLateness: result.sendLateness,
    errors: result.errors,
    statuses: result.statuses,
    /** CPU cores used on average in the window: the server, redis-server, the load generator. */
    cpuCores: { server: cores('server'), redis: cores('redis'), loadgen: cores('loadgen') },
    /** Server CPU per response (µs): steadier than req/s on a shared machine. */
    serverCpuMicrosPerRequest: perRequest('server'),
    redisCpuMicrosPerRequest: perRequest('redis'),
    eventLoopDelay: options.health ? await eventLoopDelay(server.port) : undefined,
  };
}
export type HttpFigures = Awaited<ReturnType<typeof measureHttp>>;

export { Cleanup };
