import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import { connectMongo } from '@analytics/common';
import { getFreePort, insertTestSite, mongoUriWithDatabase } from '@analytics/testkit';
import type { BenchSite } from './fixtures';
import {
  closedLoop,
  Connection,
  encodeRequest,
  loopback,
  type LoadResult,
  type OpenLoopResult,
  type Target,
  type WindowHooks,
} from './load/http-load';
import type { HttpFigures } from './results';
import { benchScript, serviceEntry, serviceNodeFlags } from './support/built';
import {
  Cleanup,
  cpuDelta,
  cpuSnapshot,
  rssBytes,
  spawnNode,
  waitForReady,
  type NodeChild,
  type RssSampler,
} from './support/processes';

/** How long and how hard each stage runs; --quick shrinks everything to fit in two minutes for both Nodes. */
export interface Settings {
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  /** Closed-loop connections for POST /event (and the limits and the naive peer). */
  connections: number;
  /** Closed-loop connections for POST /events with 100-event batches. */
  batchConnections: number;
  batchSize: number;
  openLoopConnections: number;
  naiveWorker: { warmupEvents: number; events: number };
  /**
   * Backlogs drained at full speed: `singles` new single-event jobs; `newBatches` jobs of `batchSize` new
   * events; `resentBatches` jobs of `batchSize` events that are already stored (re-deliveries). The test
   * engine needs time proportional to the collection for every new document, so a long backlog of new
   * events is out of reach here; re-delivered events cost the processor the same steps and round trips
   * and let the backlog be long enough to show the steady state of the group commit. New events stay
   * few: a write the engine needs more than MONGO_OPERATION_TIMEOUT_MS (5 s) for is cut off and retried.
   */
  processor: { warmupEvents: number; singles: number; newBatches: number; resentBatches: number };
  stats: { baseEvents: number; factor: number; durationMs: number; connections: number };
  /** `durationMs` with re-delivered background events, then `newEventsMs` with new ones only. */
  freshness: { rate: number; durationMs: number; newEventsMs: number };
}

export const FULL: Settings = {
  quick: false,
  warmupMs: 3000,
  durationMs: 10_000,
  connections: 32,
  batchConnections: 8,
  batchSize: 100,
  openLoopConnections: 64,
  naiveWorker: { warmupEvents: 100, events: 500 },
  processor: { warmupEvents: 100, singles: 300, newBatches: 2, resentBatches: 100 },
  stats: { baseEvents: 100, factor: 5, durationMs: 5000, connections: 2 },
  freshness: { rate: 200, durationMs: 10_000, newEventsMs: 2000 },
};

/** The full run with shorter windows and smaller volumes; the loads themselves stay the same. */
export const QUICK: Settings = {
  ...FULL,
  quick: true,
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

export type ServiceName = 'ingestion_service' | 'processor_service' | 'reporting_service' | 'cron_service';

export interface BenchContext {
  settings: Settings;
  redisUrl: string;
  redisPid: number | undefined;
  mongoUri: string;
  redis: Redis;
  rss: RssSampler;
  /** RSS of each process right after its first start (bytes). */
  rssIdle: Record<string, number>;
  /** Where `--profile` puts the services' .cpuprofile files (one folder per process). */
  profileDir: string | undefined;
  nodeLabel: string;
}

/** A database name no other stage uses: the test engine gets slower with every document a collection holds. */
export function freshDatabase(ctx: BenchContext, label: string): string {
  return mongoUriWithDatabase(ctx.mongoUri, `bench_${label}_${randomBytes(3).toString('hex')}`);
}

/** The driver's command monitoring, switched on by a URI option (no code change in the service). */
export function withMonitorCommands(uri: string): string {
  const url = new URL(uri);
  url.searchParams.set('monitorCommands', 'true');
  return url.toString();
}

export function serviceEnv(ctx: BenchContext, mongoUri: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: ctx.redisUrl,
    MONGODB_URI: mongoUri,
    QUEUE_NAME,
    REDIS_PREFIX,
  };
}

/**
 * Ingestion as in production, with both rate limits on but set beyond what one bench client can reach
 * (every request still pays for counting them in Redis).
 */
export function ingestionEnv(ctx: BenchContext, mongoUri: string): Record<string, string> {
  return {
    ...serviceEnv(ctx, mongoUri),
    RATE_LIMIT_IP_PER_MINUTE: '1000000000',
    RATE_LIMIT_SITE_PER_SECOND: '1000000000',
  };
}

export interface Started {
  child: NodeChild;
  port: number;
  target: Target;
}

function profileArgs(ctx: BenchContext, label: string): string[] {
  if (!ctx.profileDir) return [];
  const dir = path.join(ctx.profileDir, `${label}-node${ctx.nodeLabel}`);
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

async function startScript(
  ctx: BenchContext,
  cleanup: Cleanup,
  label: string,
  script: string,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<Started> {
  const port = await getFreePort();
  const child = spawnNode(label, script, {
    env: { ...env, PORT: String(port) },
    execArgv: [...nodeFlags, ...profileArgs(ctx, label)],
  });
  cleanup.add(label, async () => {
    ctx.rss.unwatch(label);
    await child.stop();
  });
  await waitForReady(child, 30_000);
  ctx.rssIdle[label] ??= rssBytes(child.pid);
  ctx.rss.watch(label, child.pid);
  return { child, port, target: loopback(port) };
}

/** Starts a built service (`<service>/dist/index.js`) and waits for its ready signal. */
export function startService(
  ctx: BenchContext,
  cleanup: Cleanup,
  service: ServiceName,
  env: Record<string, string>,
): Promise<Started> {
  return startScript(ctx, cleanup, service, serviceEntry(service), env, serviceNodeFlags(service));
}

/** Starts a bench script (a peer or a host) from bench/dist. */
export function startBenchScript(
  ctx: BenchContext,
  cleanup: Cleanup,
  label: string,
  script: string,
  env: Record<string, string>,
): Promise<Started> {
  return startScript(ctx, cleanup, label, benchScript(script), env);
}

/**
 * The project's processor in the bench's host (bench/src/hosts/processor-host.ts), with the driver's
 * command monitoring switched on by a URI option.
 */
export function startProcessorHost(ctx: BenchContext, cleanup: Cleanup, mongoUri: string): Promise<Started> {
  return startScript(
    ctx,
    cleanup,
    'processor_service',
    benchScript('hosts/processor-host.js'),
    serviceEnv(ctx, withMonitorCommands(mongoUri)),
    serviceNodeFlags('processor_service'),
  );
}

/** A Mongoose connection of the bench's own (sites, counting documents); closed by the cleanup. */
export async function benchMongo(cleanup: Cleanup, uri: string): Promise<mongoose.Connection> {
  const connection = await connectMongo(uri, { appName: 'bench' });
  cleanup.add('bench mongodb connection', () => connection.close());
  return connection;
}

export async function newSite(connection: mongoose.Connection, siteId?: string): Promise<BenchSite> {
  return insertTestSite(connection, siteId);
}

/** The event-loop delay a service's GET /health reports (and resets); undefined if it reports none. */
async function eventLoopDelay(target: Target): Promise<HttpFigures['eventLoopDelay']> {
  const connection = new Connection(target, true);
  try {
    const response = await connection.request(encodeRequest(target, { method: 'GET', path: '/health' }));
    const runtime = (
      JSON.parse(response.body?.toString('utf8') ?? '{}') as { runtime?: Record<string, number> }
    ).runtime;
    const p50 = runtime?.event_loop_delay_p50_ms;
    const p99 = runtime?.event_loop_delay_p99_ms;
    const max = runtime?.event_loop_delay_max_ms;
    return p50 === undefined || p99 === undefined || max === undefined ? undefined : { p50, p99, max };
  } catch {
    return undefined;
  } finally {
    connection.close();
  }
}

/**
 * Runs one load against a server and records the CPU each process used inside the measured window
 * (from /proc, so it needs no cooperation from the server).
 */
export async function measureHttp<R extends LoadResult>(
  ctx: BenchContext,
  serverPid: number,
  connections: number,
  run: (hooks: WindowHooks) => Promise<R>,
  eventsPerRequest = 1,
  health?: Target,
): Promise<HttpFigures> {
  const pids: Record<string, number> = { server: serverPid };
  if (ctx.redisPid !== undefined) pids.redis = ctx.redisPid;
  let before: Record<string, number> = {};
  let after: Record<string, number> = {};
  let loadBefore = 0;
  let loadAfter = 0;
  let windowStart = 0;
  let windowEnd = 0;
  const ownCpu = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  // GET /health reports the event-loop delay since the previous call: one call opens the window, one closes it.
  let delayAtEnd: Promise<HttpFigures['eventLoopDelay']> | undefined;
  const raw = await run({
    onWindowStart: () => {
      before = cpuSnapshot(pids);
      loadBefore = ownCpu();
      windowStart = performance.now();
      if (health) void eventLoopDelay(health);
    },
    onWindowEnd: () => {
      after = cpuSnapshot(pids);
      loadAfter = ownCpu();
      windowEnd = performance.now();
      if (health) delayAtEnd = eventLoopDelay(health);
    },
  });
  const seconds = Math.max(0.001, (windowEnd - windowStart) / 1000);
  const used = cpuDelta(before, after);
  const cpuCores: Record<string, number> = {};
  for (const [name, cpu] of Object.entries(used)) cpuCores[name] = cpu / seconds;
  cpuCores.loadgen = (loadAfter - loadBefore) / seconds;
  const open = raw as Partial<OpenLoopResult>;
  return {
    connections,
    rate: raw.rate,
    eventsPerSecond: raw.rate * eventsPerRequest,
    latency: raw.latency,
    latencyFromSchedule: open.latencyFromSchedule,
    queued: open.queued,
    errors: raw.errors,
    statuses: raw.statuses,
    cpuCores,
    serverCpuMicrosPerRequest: raw.requests > 0 ? ((used.server ?? 0) * 1e6) / raw.requests : 0,
    redisCpuMicrosPerRequest: raw.requests > 0 ? ((used.redis ?? 0) * 1e6) / raw.requests : 0,
    eventLoopDelay: await delayAtEnd,
  };
}

export interface ClosedLoopMeasure {
  /** Default: the run's `connections`. */
  connections?: number;
  /** Default: the run's `warmupMs`. */
  warmupMs?: number;
  /** Default: the run's `durationMs`. */
  durationMs?: number;
  eventsPerRequest?: number;
  /** The server's /health, to read its event-loop delay over the window. */
  health?: Target;
}

/** A closed loop against a started server, measured by measureHttp, with the run's settings by default. */
export function measureClosedLoop(
  ctx: BenchContext,
  server: Started,
  requests: Buffer[],
  options: ClosedLoopMeasure = {},
): Promise<HttpFigures> {
  const { settings } = ctx;
  const connections = options.connections ?? settings.connections;
  return measureHttp(
    ctx,
    server.child.pid,
    connections,
    (hooks) =>
      closedLoop({
        ...hooks,
        target: server.target,
        requests,
        connections,
        warmupMs: options.warmupMs ?? settings.warmupMs,
        durationMs: options.durationMs ?? settings.durationMs,
      }),
    options.eventsPerRequest,
    options.health,
  );
}

export { Cleanup };
