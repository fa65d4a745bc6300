import { errorMeta, logger } from './logger';
import type { Shutdown } from './shutdown';

export const FATAL_PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
export type FatalProcessEvent = (typeof FATAL_PROCESS_EVENTS)[number];

/** The exit code of a service stopped by an error nothing caught: non-zero, so pm2 restarts it. */
export const FATAL_EXIT_CODE = 1;

/** Where the handlers are installed: the process itself, or a stand-in in a unit test. */
export interface ProcessEvents {
  on(event: FatalProcessEvent, listener: (error: unknown) => void): unknown;
}

/**
 * An exception or a rejection nothing caught leaves the process in an unknown state: each is logged in
 * one line at level error, naming the event, with the error's name, message and stack (and the request
 * or job id when it happened inside one: the log context travels with the callback or promise that
 * failed), and then the service stops through its normal shutdown (closing what it can, under the
 * shutdown deadline) and exits with FATAL_EXIT_CODE, so pm2 starts a fresh process.
 */
export function stopOnFatalErrors(shutdown: Shutdown, target: ProcessEvents = process): void {
  for (const event of FATAL_PROCESS_EVENTS) {
    target.on(event, (error) => {
      logger.error(`${event}: stopping the service so that it is restarted`, {
        fatal: event,
        ...errorMeta(error),
      });
      void shutdown.shutdown(event, FATAL_EXIT_CODE);
    });
  }
}
