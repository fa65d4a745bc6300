import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import { startTestMongo, startTestRedis, type ChildServer } from '@analytics/testkit';
import { FULL, QUICK, type BenchContext } from './context';
import type { RunResult } from './results';
import { Cleanup, killLeftovers, RssSampler, trackPid } from './support/processes';
import { runFreshness } from './stages/freshness';
import { runIngestion } from './stages/ingestion';
import { runLimits } from './stages/limits';
import { runNaive } from './stages/naive';
import { runProcessor } from './stages/processor';
import { runStats } from './stages/stats';

/**
 * One whole measurement on the Node running this script (main.ts starts it once per Node version):
 * its own redis-server and MongoDB test engine, every stage in turn, JSON written to --out.
 */
const STAGES: [string, (ctx: BenchContext, result: RunResult) => Promise<void>][] = [
  ['limits', runLimits],
  ['naive', runNaive],
  ['ingestion', runIngestion],
  ['processor', runProcessor],
  ['stats', runStats],
  ['freshness', runFreshness],
];

interface RunArgs {
  quick: boolean;
  out: string | undefined;
  only: string[] | undefined;
  profileDir: string | undefined;
  nodeLabel: string;
}

function parseArgs(argv: string[]): RunArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  return {
    quick: argv.includes('--quick'),
    out: value('--out'),
    only: value('--only')?.split(','),
    profileDir: value('--profile-dir'),
    nodeLabel: value('--node-label') ?? process.versions.node.split('.')[0]!,
  };
}

function log(message: string): void {
  process.stderr.write(`[node ${process.versions.node}] ${message}\n`);
}

function own<T extends ChildServer>(server: T): T {
  trackPid(server.pid, new Promise((resolve) => server.process.once('exit', resolve)));
  return server;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const result: RunResult = {
    node: process.version,
    quick: args.quick,
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
      if (stopping) return;
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
    const redis = own(await startTestRedis());
    cleanup.add('redis-server', () => redis.stop());
    let mongoUri = process.env.BENCH_MONGODB_URI;
    if (!mongoUri) {
      const mongo = own(await startTestMongo());
      cleanup.add('mongodb test engine', () => mongo.stop());
      mongoUri = mongo.uri;
    }
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanup.add('redis client', () => client.quit());
    const ctx: BenchContext = {
      settings: args.quick ? QUICK : FULL,
      redisUrl: redis.url,
      redisPid: redis.pid,
      mongoUri,
      redis: client,
      rss,
      rssIdle: result.rssIdle,
      profileDir: args.profileDir,
      nodeLabel: args.nodeLabel,
    };
    for (const [name, stage] of STAGES) {
      if (stopping) break;
      if (args.only && !args.only.includes(name)) continue;
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
    result.rss = rss.maxima();
    rss.stop();
    await cleanup.run();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.loadAverage.end = os.loadavg();
  const json = JSON.stringify(result, null, 2);
  if (args.out) writeFileSync(args.out, json);
  else process.stdout.write(`${json}\n`);
}

void main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  killLeftovers();
  process.exit(1);
});
