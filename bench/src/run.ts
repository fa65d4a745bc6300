import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import { startTestMongo, startTestRedis } from '@analytics/common/testing';
import { FULL, QUICK, type BenchContext } from './context';
import { Cleanup, killLeftovers, RssSampler, trackPid } from './processes';
import type { RunResult } from './results';
import { runDrain } from './stages/drain';
import { runFreshness } from './stages/freshness';
import { runIngestion } from './stages/ingestion';
import { runLimits } from './stages/limits';
import { runNaive } from './stages/naive';
import { runProcessor } from './stages/processor';
import { runStats } from './stages/stats';

/**
 * One whole measurement on the Node running this script (main.ts starts it once per Node version): its
 * own redis-server and MongoDB test engine, every stage in turn, the result as JSON to --out.
 */
const STAGES = {
  limits: runLimits,
  naive: runNaive,
  ingestion: runIngestion,
  processor: runProcessor,
  drain: runDrain,
  stats: runStats,
  freshness: runFreshness,
};

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const log = (message: string): void =>
  void process.stderr.write(`[node ${process.versions.node}] ${message}\n`);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = argument('--only')?.split(',');
  const started = Date.now();
  const result: RunResult = {
    node: process.version,
    quick,
    startedAt: new Date(started).toISOString(),
    seconds: 0,
    mongo: process.env.BENCH_MONGODB_URI ? 'external' : 'test-engine',
    rss: {},
    rssIdle: {},
    loadAverage: { start: os.loadavg(), end: [] },
    failures: {},
  };
  const cleanup = new Cleanup();
  const rss = new RssSampler();
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      log(`${signal}: stopping`);
      void cleanup.run().finally(() => {
        killLeftovers();
        process.exit(130);
      });
    });
  }
  process.once('exit', killLeftovers);
  try {
    const redis = await startTestRedis();
    trackPid(redis.process);
    cleanup.add('redis-server', () => redis.stop());
    let mongoUri = process.env.BENCH_MONGODB_URI;
    let mongoPid: number | undefined;
    if (!mongoUri) {
      const mongo = await startTestMongo();
      trackPid(mongo.process);
      cleanup.add('mongodb test engine', () => mongo.stop());
      [mongoUri, mongoPid] = [mongo.uri, mongo.pid];
    }
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanup.add('redis client', () => client.quit());
    const ctx: BenchContext = {
      settings: quick ? QUICK : FULL,
      redisUrl: redis.url,
      redisPid: redis.pid,
      mongoPid,
      mongoUri,
      redis: client,
      rss,
      rssIdle: result.rssIdle,
      profileDir: argument('--profile-dir'),
      nodeLabel: argument('--node-label') ?? process.versions.node.split('.')[0]!,
    };
    for (const [name, stage] of Object.entries(STAGES)) {
      if (stopping || (only && !only.includes(name))) continue;
      const stageStarted = Date.now();
      log(`${name}...`);
      try {
        await stage(ctx, result);
        log(`${name} done in ${((Date.now() - stageStarted) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result.failures[name] = message.split('\n')[0]!;
        log(`${name} FAILED: ${message}`);
      }
    }
  } finally {
    result.rss = { ...rss.maxima };
    rss.stop();
    await cleanup.run();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.loadAverage.end = os.loadavg();
  writeFileSync(argument('--out') ?? '/dev/stdout', JSON.stringify(result, null, 2));
}

void main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  killLeftovers();
  process.exit(1);
});
