import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import { connectMongo } from '@analytics/common';
import { getFreePort, mongoUriWithDatabase, REPO_ROOT } from '@analytics/common/testing';
import { getJson, runLoad, type LoadOptions } from './load';
import {
  Cleanup,
  cpuSeconds,
  rssBytes,
  spawnNode,
  waitForMessage,
  type NodeChild,
  type RssSampler,
} from './processes';
import type { HttpFigures } from './results';

/** How long and how hard each stage runs; --quick shortens the windows and shrinks the volumes. */
export interface Settings {
  warmupMs: number;
  durationMs: number;
  /** Closed-loop connections for POST /event (and the ceilings and the naive peer). */
  connections: number;
  /** Closed-loop connections for POST /events with `batchSize`-event batches. */
  batchConnections: number;
  batchSize: number;
  openLoopConnections: number;
  naiveWorker: { warmupEvents: number; events: number };
  /** Backlogs: new single events, new 100-event batches, re-delivered 100-event batches (docs explain). */
  processor: { warmupEvents: number; singles: number; newBatches: number; resentBatches: number };
  /** The backlog sent at once to a running processor: `batches` requests of `batchSize` events. */
  drain: { batches: number };
  stats: { baseEvents: number; factor: number; durationMs: number; connections: number };
  /** `durationMs` with re-delivered background events, then `newEventsMs` with new ones only. */
  freshness: { rate: number; durationMs: number; newEventsMs: number };
}

export const FULL: Settings = {
  warmupMs: 3000,
  durationMs: 10_000,
  connections: 32,
  batchConnections: 8,
  batchSize: 100,
  openLoopConnections: 64,
  naiveWorker: { warmupEvents: 100, events: 500 },
  processor: { warmupEvents: 100, singles: 300, newBatches: 2, resentBatches: 100 },
  drain: { batches: 16 },
  stats: { baseEvents: 100, factor: 5, durationMs: 5000, connections: 2 },
  freshness: { rate: 200, durationMs: 10_000, newEventsMs: 2000 },
};

export const QUICK: Settings = {
  ...FULL,
  warmupMs: 600,
  durationMs: 1500,
  naiveWorker: { warmupEvents: 50, events: 150 },
  processor: { ...FULL.processor, warmupEvents: 50, singles: 100, resentBatches: 30 },
  stats: { ...FULL.stats, baseEvents: 60, durationMs: 1000 },
  freshness: { ...FULL.freshness, durationMs: 2500, newEventsMs: 1000 },
};

export const QUEUE_NAME = 'bench-events';
export const REDIS_PREFIX = 'bench';
export const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef';

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

/** A module of a built service (`<service>/dist/...`), typed with `typeof import` of its source. */
export function loadBuilt<T>(relativePath: string): T {
  return load(path.join(REPO_ROOT, relativePath)) as T;
}

/** A database no other stage uses: the test engine gets slower with every document a collection holds. */
export function freshDatabase(ctx: BenchContext, label: string): string {
  return mongoUriWithDatabase(ctx.mongoUri, `bench_${label}_${randomBytes(3).toString('hex')}`);
}

/** A Mongoose connection of the bench's own (sites, checks); closed by the cleanup. */
export async function benchMongo(cleanup: Cleanup, uri: string): Promise<mongoose.Connection> {
  const connection = await connectMongo(uri, { appName: 'bench' });
  cleanup.add('bench mongodb connection', () => connection.close());
  return connection;
}

/**
 * The services as in production (`NODE_ENV=production`, `LOG_LEVEL=info`), ingestion with both rate limits
 * on but beyond what one client reaches (every request still pays for counting them in Redis).
 */
export function serviceEnv(
  ctx: BenchContext,
  mongoUri: string,
  service?: ServiceName,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: ctx.redisUrl,
    MONGODB_URI: mongoUri,
    QUEUE_NAME,
    REDIS_PREFIX,
    ...(service === 'reporting_service' && { ADMIN_API_KEY }),
    ...(service === 'ingestion_service' && {
      RATE_LIMIT_IP_PER_MINUTE: '1000000000',
      RATE_LIMIT_SITE_PER_SECOND: '1000000000',
    }),
  };
}

/** The Node flags pm2 gives a service (ecosystem.config.js takes them from the service's `npm start`). */
function serviceNodeFlags(service: ServiceName): string[] {
  const { apps } = load(path.join(REPO_ROOT, 'ecosystem.config.js')) as {
    apps: { name: string; node_args?: string }[];
  };
  return apps.find((app) => app.name === service)?.node_args?.split(' ') ?? [];
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
  const execArgv = [...nodeFlags, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])];
  const child = spawnNode(label, script, { ...env, PORT: String(port) }, execArgv);
  cleanup.add(label, async () => {
    ctx.rss.unwatch(label);
    await child.stop();
  });
  await waitForMessage(child, (message) => (message === 'ready' ? true : undefined), 30_000, 'ready');
  ctx.rssIdle[label] ??= rssBytes(child.pid);
  ctx.rss.watch(label, child.pid);
  return { child, port };
}

/** A built service (`<service>/dist/index.js`) with the Node flags of its `npm start`. */
export function startService(ctx: BenchContext, cleanup: Cleanup, service: ServiceName, mongoUri: string) {
  const entry = path.join(REPO_ROOT, service, 'dist', 'index.js');
  return startScript(
    ctx,
    cleanup,
    service,
    entry,
    serviceEnv(ctx, mongoUri, service),
    serviceNodeFlags(service),
  );
}

/** A bench peer (bench/dist/peers/<name>.js): the ceilings, the naive peer, the counting processor host. */
export function startPeer(
  ctx: BenchContext,
  cleanup: Cleanup,
  label: string,
  peer: string,
  env: Record<string, string>,
): Promise<Started> {
  const script = path.join(REPO_ROOT, 'bench', 'dist', 'peers', `${peer}.js`);
  const flags = label === 'processor_service' ? serviceNodeFlags(label) : [];
  return startScript(ctx, cleanup, label, script, env, flags);
}

/**
 * The project's processor in peers/processor-host.ts, labelled as the service: the driver's command
 * monitoring is switched on by a URI option (no service code changes).
 */
export function startProcessorHost(ctx: BenchContext, cleanup: Cleanup, mongoUri: string): Promise<Started> {
  const url = new URL(mongoUri);
  url.searchParams.set('monitorCommands', 'true');
  return startPeer(ctx, cleanup, 'processor_service', 'processor-host', serviceEnv(ctx, url.toString()));
}

interface HealthRuntime {
  runtime?: {
    event_loop_delay_p50_ms?: number;
    event_loop_delay_p99_ms?: number;
    event_loop_delay_max_ms?: number;
  };
}

/** The event-loop delay a service's GET /health reports since the previous call (which resets it). */
async function eventLoopDelay(port: number): Promise<HttpFigures['eventLoopDelay']> {
  const runtime = (await getJson<HealthRuntime>(port, '/health').catch(() => undefined))?.runtime;
  const p50 = runtime?.event_loop_delay_p50_ms;
  const p99 = runtime?.event_loop_delay_p99_ms;
  const max = runtime?.event_loop_delay_max_ms;
  return p50 === undefined || p99 === undefined || max === undefined ? undefined : { p50, p99, max };
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
 * from /proc over the measured window (no cooperation from the server needed) and the bench's own CPU
 * (autocannon runs in this process).
 */
export async function measureHttp(
  ctx: BenchContext,
  server: Started,
  options: MeasureOptions,
): Promise<HttpFigures> {
  const { settings } = ctx;
  const run = {
    port: server.port,
    connections: settings.connections,
    durationMs: settings.durationMs,
    ...options,
  } satisfies LoadOptions;
  const warmupMs = options.warmupMs ?? settings.warmupMs;
  if (warmupMs > 0) await runLoad({ ...run, durationMs: warmupMs });
  if (options.health) await eventLoopDelay(server.port);
  const pids = { server: server.child.pid, redis: ctx.redisPid ?? 0 };
  const cpu = (): Record<string, number> => {
    const own = process.cpuUsage();
    return {
      server: cpuSeconds(pids.server),
      redis: cpuSeconds(pids.redis),
      loadgen: (own.user + own.system) / 1e6,
    };
  };
  const before = cpu();
  const result = await runLoad(run);
  const after = cpu();
  const used = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
  const perRequest = (name: string): number =>
    result.requests > 0 ? (used(name) * 1e6) / result.requests : 0;
  return {
    connections: run.connections,
    targetRate: run.overallRate,
    rate: result.rate,
    eventsPerSecond: result.rate * (options.eventsPerRequest ?? 1),
    latency: result.latency,
    errors: result.errors,
    statuses: result.statuses,
    cpuCores: Object.fromEntries(Object.keys(before).map((name) => [name, used(name) / result.seconds])),
    serverCpuMicrosPerRequest: perRequest('server'),
    redisCpuMicrosPerRequest: perRequest('redis'),
    eventLoopDelay: options.health ? await eventLoopDelay(server.port) : undefined,
  };
}

export { Cleanup };
