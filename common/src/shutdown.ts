import type { Server } from 'node:http';
import { errorMeta, logger } from './logger';

export interface ShutdownStep {
  name: string;
  close: () => Promise<unknown> | unknown;
}

/** Below the contract's 10 s, and below pm2's `kill_timeout` in ecosystem.config.js. */
export const SHUTDOWN_DEADLINE_MS = 8000;

export interface Shutdown {
  /** Adds a closer; closers run in the order they were added. */
  add(step: ShutdownStep): void;
  /**
   * Idempotent: a second call while shutting down runs nothing more, but a non-zero `exitCode` from any
   * call (a fatal error during a SIGTERM shutdown, say) still makes the process exit with it.
   */
  shutdown(reason: string, exitCode?: number): Promise<void>;
  /** SIGTERM (systemd, docker, kill) and SIGINT (pm2, Ctrl-C). */
  handleSignals(): void;
}

export function createShutdown(
  options: { deadlineMs?: number; exit?: (code: number) => void } = {},
): Shutdown {
  const steps: ShutdownStep[] = [];
  const deadlineMs = options.deadlineMs ?? SHUTDOWN_DEADLINE_MS;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;
  let requestedExitCode = 0;

  async function runSteps(reason: string): Promise<void> {
    logger.info('shutting down', { reason });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting with unfinished work', { deadlineMs });
      exit(1);
    }, deadlineMs);
    deadline.unref();
    let failed = false;
    for (const step of steps) {
      try {
        await step.close();
        logger.info('closed', { step: step.name });
      } catch (error) {
        failed = true;
        logger.error('close failed', { step: step.name, ...errorMeta(error) });
      }
    }
    clearTimeout(deadline);
    logger.info('shutdown complete', { reason });
    exit(failed ? Math.max(1, requestedExitCode) : requestedExitCode);
  }

  return {
    add: (step) => steps.push(step),
    shutdown(reason, exitCode = 0) {
      requestedExitCode = Math.max(requestedExitCode, exitCode);
      running ??= runSteps(reason);
      return running;
    },
    handleSignals() {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.on(signal, () => void this.shutdown(signal));
      }
    },
  };
}

/**
 * Stops accepting connections and waits for the requests in flight to finish. Keep-alive connections
 * are closed as soon as they fall idle (Node closes only those idle at the moment of close()); any still
 * busy after `graceMs` are cut so the deadline holds.
 */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    const cutoff = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((error) => {
      clearInterval(sweeper);
      clearTimeout(cutoff);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** Tells pm2 (`wait_ready`) that the service is up; a no-op outside pm2. */
export function signalReady(): void {
  if (process.send) process.send('ready');
}
