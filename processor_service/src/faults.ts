import { announceFault, logger } from '@analytics/common';
import type { ProcessorConfig } from './config';
import type { AfterRawWriteHook } from './services/event-store.service';

/** Exit code of an injected crash, so a test can tell it from a real failure. */
export const INJECTED_CRASH_EXIT_CODE = 86;

/**
 * Where the configured fault (PROCESSOR_FAULT, tests only) strikes. See config.ts for what each mode does.
 * `createProcessorFaults` returns undefined when no fault is set, and the service then wires none of these
 * hooks: no fault code runs in a normal processor.
 */
export interface ProcessorFaults {
  /** Before connecting to anything. */
  atStart(): void;
  /** Before each batch's writes. */
  beforeBatch(): Promise<void>;
  /** Between the raw write and the rollup writes. */
  afterRawWrite: AfterRawWriteHook;
  /** Whether to reject this job's payload as malformed. */
  rejectsPayload(): boolean;
}

export function createProcessorFaults(
  config: Pick<ProcessorConfig, 'fault' | 'faultBlockMs' | 'faultDelayMs' | 'faultShare'>,
): ProcessorFaults | undefined {
  const { fault } = config;
  if (fault === undefined) return undefined;
  announceFault('PROCESSOR_FAULT', fault, {
    blockMs: config.faultBlockMs,
    delayMs: config.faultDelayMs,
    share: config.faultShare,
  });
  let firedAfterRawWrite = false;
  return {
    atStart() {
      if (fault !== 'crash-at-start') return;
      logger.warn('injected crash at start');
      process.exit(INJECTED_CRASH_EXIT_CODE);
    },
    async beforeBatch() {
      if (fault === 'slow-batches') await new Promise((resolve) => setTimeout(resolve, config.faultDelayMs));
    },
    afterRawWrite() {
      if (firedAfterRawWrite) return;
      if (fault === 'crash-after-raw-write') {
        firedAfterRawWrite = true;
        logger.warn('injected crash after the raw-event write');
        process.exit(INJECTED_CRASH_EXIT_CODE);
      }
      if (fault === 'block-after-raw-write') {
        firedAfterRawWrite = true;
        logger.warn('injected event-loop block after the raw-event write', { blockMs: config.faultBlockMs });
        // Deliberately synchronous: nothing else in this process runs, lock renewals included.
        const until = Date.now() + config.faultBlockMs;
        while (Date.now() < until) {
          // spin
        }
        return;
      }
      if (fault === 'fail-after-raw-write-once') {
        firedAfterRawWrite = true;
        throw new Error('injected failure after the raw-event write');
      }
    },
    rejectsPayload() {
      return fault === 'reject-payloads' && Math.random() < config.faultShare;
    },
  };
}
