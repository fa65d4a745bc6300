import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTestMongo, startTestRedis } from '@analytics/testkit';
import { FULL, QUICK, type BenchContext } from './context';
import { Cleanup, killLeftovers, RssSampler, trackPid } from './processes';
import type { RunResult } from './results';
import { renderTable } from './table';
import { runDrain } from './stages/drain';
import { runFreshness } from './stages/freshness';
import { runIngestion } from './stages/ingestion';
import { runLimits } from './stages/limits';
import { runNaive } from './stages/naive';
import { runProcessor } from './stages/processor';
import { runQuery } from './stages/query';
import { runStats } from './stages/stats';

/**
 * `npm run bench [-- --quick] [-- --node 20,24] [-- --only limits,ingestion] [-- --out file.json]
 * [-- --profile dir]`: the whole measurement once per Node version, each in a child process of this
 * script (`--child`, one after the other, each with its own redis-server and MongoDB test engine), then
 * one table.
 */
const STAGES = {
  limits: runLimits,
  naive: runNaive,
  ingestion: runIngestion,
  processor: runProcessor,
  drain: runDrain,
  stats: runStats,
  query: runQuery,
  freshness: runFreshness,
};
const argv = process.argv.slice(2);
const argument = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const quick = argv.includes('--quick');
const log = (message: string): void =>
  void process.stderr.write(`[node ${process.versions.node}] ${message}\n`);

/** One Node version's run: every stage in turn (a failed stage is recorded, the next one runs). */
async function runChild(): Promise<void> {
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
      void cleanup.run().finally(() => process.exit(130));
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
      const stageCleanup = new Cleanup();
      try {
        await stage(ctx, result, stageCleanup);
        log(`${name} done in ${((Date.now() - stageStarted) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result.failures[name] = message.split('\n')[0]!;
        log(`${name} FAILED: ${message}`);
      } finally {
        // Every process and connection the stage started, then the queue's keys: each stage starts clean.
        await stageCleanup.run();
        await client.flushall();
      }
    }
  } finally {
    result.rss = { ...rss.maxima };
    rss.stop();
    await cleanup.run();
  }
  result.seconds = (Date.now() - started) / 1000;
  result.loadAverage.end = os.loadavg();
  writeFileSync(argument('--out')!, JSON.stringify(result, null, 2));
}

/** This Node for its own major version; any other through `npx -y node@<major>` (cached after the first). */
function nodeBinary(major: string): string {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const found = execFileSync('npx', ['-y', `node@${major}`, '-p', 'process.execPath'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 180_000,
  });
  return found.trim().split('\n').at(-1)!.trim();
}

/** Runs each Node version's child in turn (signals passed on, so it stops its own processes), then the table. */
async function main(): Promise<void> {
  const started = Date.now();
  let current: ChildProcess | undefined;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      if (current?.exitCode === null) current.kill(signal);
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'analytics-bench-'));
  const results: RunResult[] = [];
  try {
    for (const major of (argument('--node') ?? '20,24').split(',')) {
      if (interrupted) break;
      const out = path.join(dir, `node${major}.json`);
      const args = [__filename, '--child', '--out', out, '--node-label', major, ...argv];
      const profile = argument('--profile');
      if (profile) args.push('--profile-dir', path.resolve(profile));
      const code = await new Promise<number | string | null>((resolve) => {
        try {
          current = spawn(nodeBinary(major), args, { stdio: ['ignore', 'inherit', 'inherit'] });
          current.once('exit', resolve).once('error', (error) => resolve(error.message));
        } catch (error) {
          resolve(error instanceof Error ? error.message : String(error));
        }
      });
      try {
        results.push(JSON.parse(readFileSync(out, 'utf8')) as RunResult);
      } catch {
        process.stderr.write(`bench: the Node ${major} run produced no result (${code})\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (results.length === 0) {
    process.exitCode = 1;
    return;
  }
  const machine = `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 1024 ** 3)} GiB`;
  const nodes = results.map((r) => `Node ${r.node}`).join(' and ');
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\nanalytics bench${quick ? ' (--quick)' : ''}: ${machine}, ${nodes}, MongoDB: ${results[0]!.mongo}; ${seconds} s\n`,
  );
  console.log(renderTable(results, argument('--only') !== undefined));
  const loads = results.map(
    (r) =>
      `Node ${r.node}: ${r.loadAverage.start.map((v) => v.toFixed(1)).join(' ')} → ${r.loadAverage.end.map((v) => v.toFixed(1)).join(' ')}`,
  );
  console.log(`\nload average (1/5/15 min), start → end: ${loads.join('; ')}`);
  const out = argument('--out');
  if (out) {
    writeFileSync(out, JSON.stringify(results, null, 2));
    console.log(`\nraw results: ${out}`);
  }
  if (results.some((r) => Object.keys(r.failures).length > 0)) process.exitCode = 1;
}

void (argv.includes('--child') ? runChild() : main()).catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  killLeftovers();
  process.exit(1);
});
