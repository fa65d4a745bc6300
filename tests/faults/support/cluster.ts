import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type mongoose from 'mongoose';
import { connectMongo } from '@analytics/common';
import {
  buildTestEnv,
  dropTestDatabase,
  getFreePort,
  insertTestSite,
  spawnService,
  startTestMongo,
  startTestRedis,
  waitForReady,
  type ServiceProcess,
  type TestMongo,
  type TestRedis,
  type TestSite,
} from '@analytics/testkit';

export type ServiceName = 'ingestion_service' | 'processor_service' | 'reporting_service' | 'cron_service';

export interface RunningService extends ServiceProcess {
  port: number;
  url: string;
}

export interface ClusterOptions {
  /** AOF fsync policy of the cluster's own redis-server (default everysec, as in production). */
  appendfsync?: 'everysec' | 'always' | 'no-aof';
  /** REDIS_PREFIX of every service and of the test's queue (default `faults`). */
  redisPrefix?: string;
}

export const ADMIN_API_KEY = 'fault-suite-admin-key-0123456789';

/**
 * A private system for one fault case: its own redis-server (AOF in a temporary folder) and MongoDB
 * engine, the services as real child processes of the built code, one registered site. Everything it
 * starts is stopped by PID in stop(), whatever happened.
 */
export class Cluster {
  readonly services: RunningService[] = [];
  redis!: TestRedis;
  /** The engine this cluster started; undefined when TEST_MONGODB_URI points at a MongoDB of the caller's. */
  mongoServer?: TestMongo;
  mongo!: mongoose.Connection;
  queue!: Queue;
  site!: TestSite;
  env!: Record<string, string>;
  private redisDir!: string;

  constructor(private readonly options: ClusterOptions = {}) {}

  async start(): Promise<this> {
    this.redisDir = mkdtempSync(path.join(tmpdir(), 'fault-redis-'));
    this.redis = await startTestRedis({
      appendfsync: this.options.appendfsync ?? 'everysec',
      dir: this.redisDir,
    });
    const external = process.env.TEST_MONGODB_URI;
    if (!external) this.mongoServer = await startTestMongo();
    this.env = buildTestEnv(
      'faults',
      {
        LOG_LEVEL: 'warn',
        ADMIN_API_KEY,
        RATE_LIMIT_IP_PER_MINUTE: '0',
        RATE_LIMIT_SITE_PER_SECOND: '0',
        SITE_REFRESH_INTERVAL_MS: '200',
        // Short locks: a dead worker's jobs are taken over in seconds, so each case stays short.
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        WORKER_CONCURRENCY: '50',
        MAX_BATCH_EVENTS: '200',
        // A dead processor's unfinished write is settled by the next one after 3 s, not 30.
        WRITE_ADOPT_AFTER_MS: '3000',
        ...(this.options.redisPrefix ? { REDIS_PREFIX: this.options.redisPrefix } : {}),
      },
      { redisUrl: this.redis.url, mongoUri: external ?? this.mongoServer!.uri },
    );
    const uri = this.env.MONGODB_URI!;
    this.mongo = await connectMongo(uri);
    this.site = await insertTestSite(this.mongo);
    this.queue = new Queue(this.env.QUEUE_NAME!, {
      connection: { url: this.redis.url, maxRetriesPerRequest: null },
      prefix: this.env.REDIS_PREFIX,
    });
    this.queue.on('error', () => undefined);
    return this;
  }

  /** Starts a service as a child process and waits for its ready signal. */
  async startService(name: ServiceName, extraEnv: Record<string, string> = {}): Promise<RunningService> {
    const port = await getFreePort();
    const child = spawnService(name, { ...this.env, PORT: String(port), ...extraEnv });
    const service: RunningService = Object.assign(child, { port, url: `http://127.0.0.1:${port}` });
    this.services.push(service);
    await waitForReady(service, 20_000);
    return service;
  }

  /** Restarts the cluster's redis-server on the same port from its AOF (after a kill). */
  async restartRedis(): Promise<void> {
    this.redis = await startTestRedis({
      port: this.redis.port,
      appendfsync: this.options.appendfsync ?? 'everysec',
      dir: this.redisDir,
    });
  }

  async stop(): Promise<void> {
    for (const service of this.services) service.kill();
    await Promise.all(this.services.map((s) => s.exited));
    await this.queue?.close().catch(() => undefined);
    if (!this.mongoServer) await dropTestDatabase(this.mongo);
    await this.mongo?.close().catch(() => undefined);
    await this.redis?.stop();
    await this.mongoServer?.stop();
    if (this.redisDir) rmSync(this.redisDir, { recursive: true, force: true });
  }
}
