import { logger } from '@analytics/common';
import type { ProcessorFault } from '../config';
import type { AfterRawWriteHook } from './event-store.service';

/** Exit code of the injected crash, so a test can tell it from a real failure. */
export const INJECTED_CRASH_EXIT_CODE = 86;

/** The hook that injects the configured fault between the raw write and the rollup writes. */
export function afterRawWriteFault(fault: ProcessorFault | undefined, blockMs = 5000): AfterRawWriteHook {
  if (fault === undefined) return () => undefined;
  logger.warn('FAULT INJECTION IS ON: this processor will break on purpose', { fault });
  let fired = false;
  return () => {
    if (fired) return;
    fired = true;
    if (fault === 'crash-after-raw-write') {
      logger.warn('injected crash after the raw-event write');
      process.exit(INJECTED_CRASH_EXIT_CODE);
    }
    if (fault === 'block-after-raw-write') {
      logger.warn('injected event-loop block after the raw-event write', { blockMs });
      // Deliberately synchronous: nothing else in this process runs, lock renewals included.
      const until = Date.now() + blockMs;
      while (Date.now() < until) {
        // spin
      }
      return;
    }
    throw new Error('injected failure after the raw-event write');
  };
}
