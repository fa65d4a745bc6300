import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** PIDs this run started that are still alive: SIGKILLed by PID after a crash or a signal, never by name. */
const livePids = new Set<number>();

export function trackPid(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  livePids.add(pid);
  child.once('exit', () => livePids.delete(pid));
}

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

/** A Node process the bench started, with an IPC channel (services send 'ready' on it, hosts report). */
export interface NodeChild {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KiB it wrote (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** `node [execArgv] script` with exactly `env` on top of PATH and HOME (no developer .env leaks in). */
export function spawnNode(
  name: string,
  script: string,
  env: Record<string, string>,
  execArgv: string[],
  options: { outputFile?: string } = {},
): NodeChild {
  const child = spawn(process.execPath, [...execArgv, script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started`);
  trackPid(child);
  let output = '';
  const collect = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-64 * 1024));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  if (options.outputFile) {
    mkdirSync(path.dirname(options.outputFile), { recursive: true });
    const file = createWriteStream(options.outputFile);
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid: child.pid,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves once the process sends 'ready' over IPC (as pm2 expects); rejects on exit or timeout. */
export function waitForReady(target: NodeChild, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: string): void => {
      clearTimeout(timer);
      target.child.off('message', onMessage).off('exit', onExit);
      if (error === undefined) resolve();
      else reject(new Error(`${target.name} ${error} before it was ready:\n${target.output()}`));
    };
    const onMessage = (message: unknown) => message === 'ready' && settle();
    const onExit = (code: number | null, signal: string | null) => settle(`exited (${code ?? signal})`);
    const timer = setTimeout(() => settle(`took ${timeoutMs} ms`), timeoutMs);
    target.child.on('message', onMessage).once('exit', onExit);
  });
}

/**
 * CPU seconds a process has used so far: the run time of each of its threads (Linux
 * /proc/<pid>/task/<tid>/schedstat, in ns, where /proc/<pid>/stat counts 10 ms ticks); 0 once it is gone.
 */
export function cpuSeconds(pid: number): number {
  const threadNanos = (tid: string): number => {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return 0; // the thread ended meanwhile
    }
  };
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + threadNanos(tid), 0) / 1e9;
  } catch {
    return 0;
  }
}

/** Resident set size in bytes (Linux /proc; 0 once the process is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of named processes every 200 ms, keeping each name's maximum. */
export class RssSampler {
  readonly maxima: Record<string, number> = {};
  private readonly watched = new Map<string, number>();
  private readonly timer = setInterval(
    () => this.watched.forEach((_, name) => this.sample(name)),
    200,
  ).unref();

  watch(name: string, pid: number): void {
    this.watched.set(name, pid);
    this.sample(name);
  }

  unwatch(name: string): void {
    this.sample(name);
    this.watched.delete(name);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(name: string): void {
    const rss = rssBytes(this.watched.get(name) ?? 0);
    if (rss > (this.maxima[name] ?? 0)) this.maxima[name] = rss;
  }
}

/** Runs closers in reverse order of registration, each in its own try/catch. */
export class Cleanup {
  private readonly steps: { name: string; run: () => unknown }[] = [];

  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      await Promise.resolve()
        .then(step.run)
        .catch((error: unknown) => console.error(`bench: cleanup "${step?.name}" failed: ${String(error)}`));
    }
  }
}
