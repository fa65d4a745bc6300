import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const OUTPUT_TAIL_CHARS = 64 * 1024;

/** PIDs of processes this bench run started and that have not exited yet (for a last-resort kill). */
const livePids = new Set<number>();

export function trackPid(pid: number, exited: Promise<unknown>): void {
  livePids.add(pid);
  void exited.then(() => livePids.delete(pid));
}

/** SIGKILLs, by PID, every process this run started that is still there (on exit, after a crash). */
export function killLeftovers(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
}

/** A Node process the bench started; stopped by its PID only. */
export interface NodeChild {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last 64 KiB the process wrote (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  args?: string[];
  execArgv?: string[];
  /** The Node binary; the bench's own by default (so a run under Node 24 measures Node 24). */
  nodePath?: string;
  cwd?: string;
}

/** Runs `node [execArgv] script [args]` with exactly `env` on top of PATH (no developer .env leaks in). */
export function spawnNode(name: string, script: string, options: SpawnOptions): NodeChild {
  const child = spawn(
    options.nodePath ?? process.execPath,
    [...(options.execArgv ?? []), script, ...(options.args ?? [])],
    {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: options.cwd,
    },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > 2 * OUTPUT_TAIL_CHARS) output = output.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started`);
  const pid = child.pid;
  trackPid(pid, exited);
  return {
    name,
    pid,
    child,
    exited,
    output: () => output.slice(-OUTPUT_TAIL_CHARS),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const killer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves with the first IPC message `accept` returns a value for; rejects on exit or timeout. */
export function waitForMessage<T>(
  target: NodeChild,
  accept: (message: unknown) => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      target.child.off('message', onMessage);
      target.child.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      const value = accept(message);
      if (value !== undefined) {
        cleanup();
        resolve(value);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(
        new Error(
          `${target.name} exited (code ${code}, signal ${signal}) before ${what}:\n${target.output()}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${target.name}: no ${what} within ${timeoutMs} ms:\n${target.output()}`));
    }, timeoutMs);
    target.child.on('message', onMessage);
    target.child.once('exit', onExit);
  });
}

/** Waits for the 'ready' message every service (and every bench peer) sends once it listens. */
export function waitForReady(target: NodeChild, timeoutMs = 20_000): Promise<void> {
  return waitForMessage(
    target,
    (message) => (message === 'ready' ? true : undefined),
    timeoutMs,
    'ready',
  ).then(() => undefined);
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a process has used so far (Linux /proc); 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (Linux /proc); 0 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of named processes while load runs, keeping each one's maximum. */
export class RssSampler {
  private readonly max = new Map<string, number>();
  private readonly watched = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    this.timer = setInterval(() => {
      for (const name of this.watched.keys()) this.sample(name);
    }, intervalMs);
    this.timer.unref();
  }

  watch(name: string, pid: number): void {
    this.watched.set(name, pid);
    this.sample(name);
  }

  unwatch(name: string): void {
    this.sample(name);
    this.watched.delete(name);
  }

  /** Maximum RSS seen per name, in bytes. */
  maxima(): Record<string, number> {
    return Object.fromEntries(this.max);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(name: string): void {
    const pid = this.watched.get(name);
    if (pid === undefined) return;
    const rss = rssBytes(pid);
    if (rss > (this.max.get(name) ?? 0)) this.max.set(name, rss);
  }
}

/** CPU seconds used by each watched process between two points in time. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
}

export function cpuDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(before).map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]),
  );
}

/** Runs closers in reverse order of registration, each in its own try/catch (try/finally for processes). */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];

  add(name: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ name, run });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(
          `bench: cleanup "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
