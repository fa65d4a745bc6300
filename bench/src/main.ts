import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from './results';
import { benchScript } from './support/built';
import { renderTable } from './table';

/**
 * `npm run bench [-- --quick] [-- --node 20,24] [-- --only limits,ingestion] [-- --out file.json]
 * [-- --profile dir]`: runs the whole measurement once per Node version (each in its own child process,
 * one after the other, each with its own redis-server and MongoDB engine), then prints one table.
 */
interface MainArgs {
  quick: boolean;
  nodes: string[];
  only: string | undefined;
  out: string | undefined;
  profileDir: string | undefined;
}

function parseArgs(argv: string[]): MainArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const profile = value('--profile');
  return {
    quick: argv.includes('--quick'),
    nodes: (value('--node') ?? '20,24').split(',').map((v) => v.trim()),
    only: value('--only'),
    out: value('--out'),
    profileDir: profile === undefined ? undefined : path.resolve(profile),
  };
}

/** This Node for its own major version; any other through `npx -y node@<major>` (cached after the first). */
function nodeBinary(major: string): string {
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const found = execFileSync('npx', ['-y', `node@${major}`, '-p', 'process.execPath'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 180_000,
  }).trim();
  return found.split('\n').at(-1)!.trim();
}

let current: ReturnType<typeof spawn> | undefined;
let interrupted = false;

function runOnce(nodePath: string, major: string, args: MainArgs, out: string): Promise<number | null> {
  const runArgs = [benchScript('run.js'), '--out', out, '--node-label', major];
  if (args.quick) runArgs.push('--quick');
  if (args.only) runArgs.push('--only', args.only);
  if (args.profileDir) runArgs.push('--profile-dir', args.profileDir);
  return new Promise((resolve) => {
    const child = spawn(nodePath, runArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
    current = child;
    child.once('exit', (code) => {
      current = undefined;
      resolve(code);
    });
    child.once('error', (error) => {
      process.stderr.write(`bench: cannot start Node ${major}: ${error.message}\n`);
      current = undefined;
      resolve(null);
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  // The runner stops its own processes on a signal; wait for it rather than leave them behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted = true;
      if (current?.pid !== undefined) {
        try {
          process.kill(current.pid, signal);
        } catch {
          // already gone
        }
      }
    });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'analytics-bench-'));
  const results: RunResult[] = [];
  try {
    for (const major of args.nodes) {
      if (interrupted) break;
      let nodePath: string;
      try {
        nodePath = nodeBinary(major);
      } catch (error) {
        process.stderr.write(`bench: no Node ${major} (${error instanceof Error ? error.message : error})\n`);
        continue;
      }
      const out = path.join(dir, `node${major}.json`);
      const code = await runOnce(nodePath, major, args, out);
      try {
        results.push(JSON.parse(readFileSync(out, 'utf8')) as RunResult);
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
  const cpus = os.cpus();
  console.log(
    `\nanalytics bench${args.quick ? ' (--quick)' : ''}: ${os.availableParallelism()} cores (${cpus[0]?.model ?? '?'}), ` +
      `${Math.round(os.totalmem() / 1024 ** 3)} GiB, ${results.map((r) => `Node ${r.node}`).join(' and ')}, ` +
      `MongoDB: ${results[0]!.mongo}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log(renderTable(results));
  const load = (r: RunResult): string =>
    `${r.loadAverage.start.map((v) => v.toFixed(1)).join(' ')} → ${r.loadAverage.end.map((v) => v.toFixed(1)).join(' ')}`;
  console.log(
    `\nload average (1/5/15 min) at start → end: ${results.map((r) => `Node ${r.node}: ${load(r)}`).join('; ')}`,
  );
  if (args.out) {
    writeFileSync(args.out, JSON.stringify(results, null, 2));
    console.log(`\nraw results: ${args.out}`);
  }
  if (results.some((r) => Object.keys(r.failures).length > 0)) process.exitCode = 1;
}

void main();
