import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The root of the repository (testkit/src → two levels up, also from testkit/dist). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface ServiceProcess {
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for teardown. */
  kill(): void;
}

/**
 * Runs a built service (`<service>/dist/index.js`, so `npm run build` first) as a child process with
 * exactly the given environment on top of PATH: no .env file of the developer leaks in, because every
 * variable the test cares about is set explicitly.
 */
export function spawnService(service: string, env: Record<string, string>): ServiceProcess {
  const entry = path.join(REPO_ROOT, service, 'dist', 'index.js');
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    pid: child.pid!,
    child,
    output: () => output,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Resolves when the process sends pm2's 'ready' message (after its connections are up and it listens). */
export function waitForReady(service: ServiceProcess, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready signal within ${timeoutMs} ms:\n${service.output()}`)),
      timeoutMs,
    );
    service.child.on('message', (message) => {
      if (message === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    void service.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited before ready (code ${code}, signal ${signal}):\n${service.output()}`));
    });
  });
}
