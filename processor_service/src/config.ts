import path from 'node:path';
import Joi from 'joi';
import {
  type BaseConfig,
  baseConfig,
  type BaseEnv,
  baseEnvKeys,
  faultModeVariable,
  faultShareVariable,
  freezeDeep,
  QUEUE_ENV_KEYS,
  queueConfig,
  type QueueConfig,
  type QueueEnv,
  readServiceEnv,
} from '@analytics/common';

export const SERVICE_NAME = 'processor_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

export interface ProcessorConfig extends BaseConfig, QueueConfig {
  worker: {
    concurrency: number;
    maxBatchEvents: number;
    initialBatchEvents: number;
    writeTargetMs: number;
    adoptAfterMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
  };
  /** Test-only fault injection (refused when NODE_ENV=production). */
  fault: ProcessorFault | undefined;
  faultBlockMs: number;
  faultDelayMs: number;
  faultShare: number;
}

interface ProcessorEnv extends BaseEnv, QueueEnv {
  WORKER_CONCURRENCY: number;
  MAX_BATCH_EVENTS: number;
  INITIAL_BATCH_EVENTS: number;
  WRITE_TARGET_MS: number;
  WRITE_ADOPT_AFTER_MS: number;
  WORKER_LOCK_DURATION_MS: number;
  WORKER_STALLED_INTERVAL_MS: number;
  WORKER_MAX_STALLED_COUNT: number;
  PROCESSOR_FAULT?: ProcessorFault;
  PROCESSOR_FAULT_BLOCK_MS: number;
  PROCESSOR_FAULT_DELAY_MS: number;
  PROCESSOR_FAULT_SHARE: number;
}

/**
 * - crash-after-raw-write: the process exits (code 86) right after its first raw-event write, before any
 *   rollup write, as a `kill -9` at the worst moment would leave it;
 * - fail-after-raw-write-once: the first batch throws at that point instead (the jobs are retried);
 * - block-after-raw-write: the first batch blocks the event loop for PROCESSOR_FAULT_BLOCK_MS there, past
 *   the job lock, so another worker takes the jobs over while this one still holds them;
 * - crash-at-start: the process exits (code 86) before it connects to anything;
 * - slow-batches: every batch waits PROCESSOR_FAULT_DELAY_MS before its writes;
 * - reject-payloads: a share (PROCESSOR_FAULT_SHARE) of jobs is rejected as malformed (failed, no retry).
 */
export const PROCESSOR_FAULTS = [
  'crash-after-raw-write',
  'fail-after-raw-write-once',
  'block-after-raw-write',
  'crash-at-start',
  'slow-batches',
  'reject-payloads',
] as const;
export type ProcessorFault = (typeof PROCESSOR_FAULTS)[number];

const envSchema = Joi.object<ProcessorEnv>({
  ...baseEnvKeys(3001, 9461),
  ...QUEUE_ENV_KEYS,
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(5000).default(200),
  MAX_BATCH_EVENTS: Joi.number().integer().min(1).max(50_000).default(5000),
  // The adaptive write size starts here and moves between one job and MAX_BATCH_EVENTS.
  INITIAL_BATCH_EVENTS: Joi.number().integer().min(1).max(50_000).default(500),
  // A write slower than this halves the next one (below MongoDB's 5 s operation deadline).
  WRITE_TARGET_MS: Joi.number().integer().min(10).max(60_000).default(1000),
  // Another processor's unfinished write is settled by this one once it is this old (well past the 5 s
  // deadline every write has on the server, so nothing it sent can still be running).
  WRITE_ADOPT_AFTER_MS: Joi.number().integer().min(1000).max(3_600_000).default(30_000),
  // BullMQ's defaults: a crashed worker's jobs are taken over after at most lock + stalled interval.
  WORKER_LOCK_DURATION_MS: Joi.number().integer().min(1000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: Joi.number().integer().min(1000).default(30_000),
  // Above BullMQ's 1: a job whose worker was killed twice is retried rather than failed.
  WORKER_MAX_STALLED_COUNT: Joi.number().integer().min(1).max(100).default(5),
  PROCESSOR_FAULT: faultModeVariable('PROCESSOR_FAULT', PROCESSOR_FAULTS),
  PROCESSOR_FAULT_BLOCK_MS: Joi.number().integer().min(1).max(120_000).default(5000),
  PROCESSOR_FAULT_DELAY_MS: Joi.number().integer().min(1).max(120_000).default(2000),
  PROCESSOR_FAULT_SHARE: faultShareVariable(0.5),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ProcessorConfig> {
  const e = readServiceEnv(envSchema, env, SERVICE_DIR);
  return freezeDeep({
    ...baseConfig(e),
    ...queueConfig(e),
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      maxBatchEvents: e.MAX_BATCH_EVENTS,
      initialBatchEvents: e.INITIAL_BATCH_EVENTS,
      writeTargetMs: e.WRITE_TARGET_MS,
      adoptAfterMs: e.WRITE_ADOPT_AFTER_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: e.WORKER_MAX_STALLED_COUNT,
    },
    fault: e.PROCESSOR_FAULT,
    faultBlockMs: e.PROCESSOR_FAULT_BLOCK_MS,
    faultDelayMs: e.PROCESSOR_FAULT_DELAY_MS,
    faultShare: e.PROCESSOR_FAULT_SHARE,
  });
}
