import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from './results';
import { renderTable } from './table';

/**
 * `npm run bench [-- --quick] [-- --node 20,24] [-- --only limits,ingestion] [-- --out file.json]
 * [-- --profile dir]`: the whole measurement once per Node version (each in its own child process, one
 * after the other, each with its own redis-server and MongoDB test engine), then one table.
 */
const argv = process.argv.slice(2);
const argument = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const quick = argv.includes('--quick');
const only = argument('--only');
const out = argument('--out');
const profile = argument('--profile');
const nodes = (argument('--node') ?? '20,24').split(',').map((v) => v.trim());

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

let current: ChildProcess | undefined;
let interrupted = false;

function runOnce(nodePath: string, major: string, resultFile: string): Promise<number | null> {
  const args = [path.join(__dirname, 'run.js'), '--out', resultFile, '--node-label', major];
  if (quick) args.push('--quick');
  if (only) args.push('--only', only);
  if (profile) args.push('--profile-dir', path.resolve(profile));
  return new Promise((resolve) => {
    current = spawn(nodePath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    current.once('exit', (code) => resolve(code));
    current.once('error', (error) => {
      process.stderr.write(`bench: cannot start Node ${major}: ${error.message}\n`);
      resolve(null);
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  // The runner stops its own processes on a signal: pass it on and wait rather than leave them behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      if (current?.exitCode === null) current.kill(signal);
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'analytics-bench-'));
  const results: RunResult[] = [];
  try {
    for (const major of nodes) {
      if (interrupted) break;
      let nodePath: string;
      try {
        nodePath = nodeBinary(major);
      } catch (error) {
        process.stderr.write(`bench: no Node ${major} (${error instanceof Error ? error.message : error})\n`);
        continue;
      }
      const resultFile = path.join(dir, `node${major}.json`);
      const code = await runOnce(nodePath, major, resultFile);
      try {
        results.push(JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult);
      } catch {
        process.stderr.write(`bench: the Node ${major} run produced no result (exit code ${code})\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (results.length === 0) {
    process.exitCode = 1;
    return;
  }
  const cpu = os.cpus()[0]?.model ?? '?';
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\nanalytics bench${quick ? ' (--quick)' : ''}: ${os.availableParallelism()} cores (${cpu}), ` +
      `${Math.round(os.totalmem() / 1024 ** 3)} GiB, ${results.map((r) => `Node ${r.node}`).join(' and ')}, ` +
      `MongoDB: ${results[0]!.mongo}; ${seconds} s\n`,
  );
  console.log(renderTable(results));
  const load = (r: RunResult): string =>
    `${r.loadAverage.start.map((v) => v.toFixed(1)).join(' ')} → ${r.loadAverage.end.map((v) => v.toFixed(1)).join(' ')}`;
  console.log(
    `\nload average (1/5/15 min), start → end: ${results.map((r) => `Node ${r.node}: ${load(r)}`).join('; ')}`,
  );
  if (out) {
    writeFileSync(out, JSON.stringify(results, null, 2));
    console.log(`\nraw results: ${out}`);
  }
  if (results.some((r) => Object.keys(r.failures).length > 0)) process.exitCode = 1;
}

void main();
