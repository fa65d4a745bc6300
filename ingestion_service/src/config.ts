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
  parseTrustProxy,
  QUEUE_ENV_KEYS,
  queueConfig,
  type QueueConfig,
  type QueueEnv,
  readServiceEnv,
  TRUST_PROXY,
  type TrustProxySetting,
} from '@analytics/common';
import { EVENT_LIMITS } from './validations/event-fields.validation';

export const SERVICE_NAME = 'ingestion_service';
/** Events older than this many hours are refused (7 days). */
export const DEFAULT_MAX_EVENT_AGE_HOURS = 24 * 7;

export const SERVICE_DIR = path.resolve(__dirname, '..');

export interface IngestionConfig extends BaseConfig, QueueConfig {
  redis: { url: string; prefix: string; commandTimeoutMs: number };
  /** A request not committed to Redis within this time answers 503 (the contract: within 2 s). */
  commitDeadlineMs: number;
  /** keylessSitePerSecond: the smaller per-site budget of requests that come without a write key. */
  rateLimits: { ipPerMinute: number; sitePerSecond: number; keylessSitePerSecond: number };
  /** Express `trust proxy`: false, true, a hop count, or a list of addresses/subnets. */
  trustProxy: TrustProxySetting;
  events: { maxAgeMs: number };
  /** The MMDB file that maps IPs to countries (default: the one shipped with the service). */
  countryDbPath: string | undefined;
  sites: { refreshIntervalMs: number };
  /** Test-only fault injection (refused when NODE_ENV=production). */
  fault: { mode: IngestionFault | undefined; rate: number };
}

/**
 * - unavailable: POST /event and /events answer 503, as with Redis down (at INGESTION_FAULT_RATE);
 * - error: they answer 500, as a bug would (at INGESTION_FAULT_RATE).
 */
export const INGESTION_FAULTS = ['unavailable', 'error'] as const;
export type IngestionFault = (typeof INGESTION_FAULTS)[number];

interface IngestionEnv extends BaseEnv, QueueEnv {
  REDIS_COMMAND_TIMEOUT_MS: number;
  RATE_LIMIT_IP_PER_MINUTE: number;
  RATE_LIMIT_SITE_PER_SECOND: number;
  RATE_LIMIT_KEYLESS_SITE_PER_SECOND: number;
  TRUST_PROXY: string;
  MAX_EVENT_AGE_HOURS?: number;
  EVENT_MAX_AGE_HOURS?: number;
  SITE_REFRESH_INTERVAL_MS: number;
  COUNTRY_DB_PATH?: string;
  INGESTION_FAULT?: IngestionFault;
  INGESTION_FAULT_RATE: number;
}

const envSchema = Joi.object<IngestionEnv>({
  ...baseEnvKeys(3000, 9460),
  ...QUEUE_ENV_KEYS,
  // A commit makes two Redis calls in turn (the rate limits, the enqueue): its deadline, 2 × 600 ms plus
  // a margin, stays under the contract's 2 s for a 503 when Redis hangs.
  REDIS_COMMAND_TIMEOUT_MS: Joi.number().integer().min(50).max(600).default(500),
  RATE_LIMIT_IP_PER_MINUTE: Joi.number().integer().min(0).default(600),
  // 0 (off) or at least one full batch, or a batch of 500 could never pass.
  RATE_LIMIT_SITE_PER_SECOND: Joi.alternatives()
    .try(Joi.number().valid(0), Joi.number().integer().min(EVENT_LIMITS.batchMaxEvents))
    .default(2000)
    .messages({
      'alternatives.match': `{#label} must be 0 (off) or at least ${EVENT_LIMITS.batchMaxEvents}`,
    }),
  // Events per site per second that arrive without a write key (Plausible's and Umami's endpoints): a
  // budget of their own, so forged keyless traffic cannot use up what the site's keyed senders need.
  RATE_LIMIT_KEYLESS_SITE_PER_SECOND: Joi.number().integer().min(0).default(200),
  TRUST_PROXY,
  // The contract's name. Cron's RETENTION_DAYS must stay above this / 24 + 1, so a resent event still
  // finds its stored copy (cron cannot see this setting: docs/cron.md). Tests raise it to reach past dates.
  MAX_EVENT_AGE_HOURS: Joi.number().integer().min(1).max(2160),
  // The name before the contract fixed one; read when MAX_EVENT_AGE_HOURS is not set.
  EVENT_MAX_AGE_HOURS: Joi.number().integer().min(1).max(2160),
  // At most 5 s: the contract promises a new site is accepted within 5 seconds.
  SITE_REFRESH_INTERVAL_MS: Joi.number().integer().min(100).max(5000).default(2000),
  // An MMDB with `country_code` (ip-location-db) or `country.iso_code` (MaxMind GeoLite2-Country) records.
  COUNTRY_DB_PATH: Joi.string().allow('').max(4096),
  INGESTION_FAULT: faultModeVariable('INGESTION_FAULT', INGESTION_FAULTS),
  INGESTION_FAULT_RATE: faultShareVariable(1),
});

/** Reads the environment (then `ingestion_service/.env`), validated; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<IngestionConfig> {
  const e = readServiceEnv(envSchema, env, SERVICE_DIR);
  return freezeDeep({
    ...baseConfig(e),
    ...queueConfig(e),
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    commitDeadlineMs: 2 * e.REDIS_COMMAND_TIMEOUT_MS + 200,
    rateLimits: {
      ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE,
      sitePerSecond: e.RATE_LIMIT_SITE_PER_SECOND,
      keylessSitePerSecond: e.RATE_LIMIT_KEYLESS_SITE_PER_SECOND,
    },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    events: {
      maxAgeMs: (e.MAX_EVENT_AGE_HOURS ?? e.EVENT_MAX_AGE_HOURS ?? DEFAULT_MAX_EVENT_AGE_HOURS) * 3600 * 1000,
    },
    sites: { refreshIntervalMs: e.SITE_REFRESH_INTERVAL_MS },
    countryDbPath: e.COUNTRY_DB_PATH || undefined,
    fault: { mode: e.INGESTION_FAULT, rate: e.INGESTION_FAULT_RATE },
  });
}
