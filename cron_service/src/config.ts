import path from 'node:path';
import Joi from 'joi';
import {
  type BaseConfig,
  baseConfig,
  type BaseEnv,
  baseEnvKeys,
  faultModeVariable,
  freezeDeep,
  QUEUE_ENV_KEYS,
  queueConfig,
  type QueueConfig,
  type QueueEnv,
  readServiceEnv,
} from '@analytics/common';

export const SERVICE_NAME = 'cron_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

/**
 * Ingestion accepts events up to 7 days old by default (MAX_EVENT_AGE_HOURS=168) and the processor recounts
 * an hour's rollups from that hour's raw events, so those must outlive the accepted age by a margin: 7 days
 * plus one day. Raising MAX_EVENT_AGE_HOURS asks for a RETENTION_DAYS above MAX_EVENT_AGE_HOURS / 24 + 1.
 */
export const MIN_RETENTION_DAYS = 8;
/** Below a second a schedule would only fill job_runs and Redis. */
const MIN_INTERVAL_MS = 1000;

export interface CronConfig extends BaseConfig, QueueConfig {
  /** The events queue; the cron service's own queue is named after it (see cronQueueName). */
  retention: { days: number; intervalMs: number; batchSize: number; batchPauseMs: number };
  heartbeat: { intervalMs: number };
  /** The site-deletion job: how often it runs, and how long a deleted site's mark is kept and re-purged. */
  siteDeletion: { intervalMs: number; settleMs: number };
  /** Job runs older than this are removed from job_runs by the retention job. */
  jobHistoryDays: number;
  /** Test-only fault injection (refused when NODE_ENV=production). */
  fault: CronFault | undefined;
}

interface CronEnv extends BaseEnv, QueueEnv {
  RETENTION_DAYS: number;
  RETENTION_INTERVAL_MS: number;
  RETENTION_BATCH_SIZE: number;
  RETENTION_BATCH_PAUSE_MS: number;
  HEARTBEAT_INTERVAL_MS: number;
  SITE_DELETION_INTERVAL_MS: number;
  SITE_DELETION_SETTLE_MS: number;
  JOB_HISTORY_DAYS: number;
  CRON_FAULT?: CronFault;
}

/**
 * - hang: every job run starts and never finishes (until shutdown), so /health reports it overdue;
 * - fail-database: every job run fails at its database step, and is recorded as an error.
 */
export const CRON_FAULTS = ['hang', 'fail-database'] as const;
export type CronFault = (typeof CRON_FAULTS)[number];

const envSchema = Joi.object<CronEnv>({
  ...baseEnvKeys(3002, 9463),
  ...QUEUE_ENV_KEYS,
  RETENTION_DAYS: Joi.number()
    .integer()
    .min(MIN_RETENTION_DAYS)
    .max(3650)
    .default(30)
    .messages({
      'number.min': `{#label} must be at least ${MIN_RETENTION_DAYS}: raw events must outlive the oldest event ingestion accepts (MAX_EVENT_AGE_HOURS / 24) by more than a day`,
    }),
  RETENTION_INTERVAL_MS: Joi.number().integer().min(MIN_INTERVAL_MS).default(3_600_000),
  RETENTION_BATCH_SIZE: Joi.number().integer().min(1).max(10_000).default(1000),
  RETENTION_BATCH_PAUSE_MS: Joi.number().integer().min(0).max(60_000).default(100),
  HEARTBEAT_INTERVAL_MS: Joi.number().integer().min(MIN_INTERVAL_MS).default(60_000),
  // A deleted site's data must be gone within a minute: runs at most 30 s apart.
  SITE_DELETION_INTERVAL_MS: Joi.number().integer().min(MIN_INTERVAL_MS).max(30_000).default(10_000),
  SITE_DELETION_SETTLE_MS: Joi.number().integer().min(0).max(3_600_000).default(30_000),
  JOB_HISTORY_DAYS: Joi.number().integer().min(1).max(3650).default(30),
  CRON_FAULT: faultModeVariable('CRON_FAULT', CRON_FAULTS),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<CronConfig> {
  const e = readServiceEnv(envSchema, env, SERVICE_DIR);
  return freezeDeep({
    ...baseConfig(e),
    ...queueConfig(e),
    retention: {
      days: e.RETENTION_DAYS,
      intervalMs: e.RETENTION_INTERVAL_MS,
      batchSize: e.RETENTION_BATCH_SIZE,
      batchPauseMs: e.RETENTION_BATCH_PAUSE_MS,
    },
    heartbeat: { intervalMs: e.HEARTBEAT_INTERVAL_MS },
    siteDeletion: { intervalMs: e.SITE_DELETION_INTERVAL_MS, settleMs: e.SITE_DELETION_SETTLE_MS },
    jobHistoryDays: e.JOB_HISTORY_DAYS,
    fault: e.CRON_FAULT,
  });
}

/** The cron service's own queue, beside the events queue, under the same Redis prefix. */
export function cronQueueName(config: Pick<CronConfig, 'queueName'>): string {
  return `${config.queueName}-cron`;
}
