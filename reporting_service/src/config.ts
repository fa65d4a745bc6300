import path from 'node:path';
import Joi from 'joi';
import {
  type BaseConfig,
  baseConfig,
  type BaseEnv,
  baseEnvKeys,
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

export const SERVICE_NAME = 'reporting_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

/** The events queue (REDIS_URL, REDIS_PREFIX, QUEUE_NAME): shown read-only at /admin/queues. */
export interface ReportingConfig extends BaseConfig, QueueConfig {
  /** Undefined only outside production: administration is then open, with a warning at start. */
  adminApiKey: string | undefined;
  trustProxy: TrustProxySetting;
  /** Origins allowed to call the read endpoints from a browser (CORS); none by default. */
  corsOrigins: string[];
  query: { timeoutMs: number; ratePerHour: number };
}

interface ReportingEnv extends BaseEnv, QueueEnv {
  ADMIN_API_KEY?: string;
  TRUST_PROXY: string;
  CORS_ORIGINS: string[];
  QUERY_TIMEOUT_MS: number;
  QUERY_RATE_LIMIT_PER_HOUR: number;
}

const envSchema = Joi.object<ReportingEnv>({
  // The deadline of one POST /api/v2/query: past it the answer is 503 query-timeout.
  QUERY_TIMEOUT_MS: Joi.number().integer().min(100).max(300_000).default(10_000),
  // Queries per key and hour (contract: 600), per reporting process.
  QUERY_RATE_LIMIT_PER_HOUR: Joi.number().integer().min(1).max(1_000_000).default(600),
  ...baseEnvKeys(4000, 9462),
  ...QUEUE_ENV_KEYS,
  // Empty counts as unset, so a copied .env.example works as it is.
  ADMIN_API_KEY: Joi.string()
    .empty('')
    .min(16)
    .max(200)
    .when('NODE_ENV', { is: 'production', then: Joi.required() })
    .messages({ 'any.required': 'ADMIN_API_KEY is required when NODE_ENV=production' }),
  TRUST_PROXY,
  // Comma-separated origins (scheme, host and port, no path), e.g. https://dash.example.com.
  CORS_ORIGINS: Joi.string()
    .empty('')
    .default([])
    .custom((value: string, helpers) => {
      const origins = value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!/^https?:\/\/[^/\s]+$/i.test(origin)) return helpers.error('any.invalid', { origin });
      }
      return origins;
    })
    .messages({
      'any.invalid': 'CORS_ORIGINS must list origins like https://dash.example.com (no path); got {#origin}',
    }),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ReportingConfig> {
  const e = readServiceEnv(envSchema, env, SERVICE_DIR);
  return freezeDeep({
    ...baseConfig(e),
    ...queueConfig(e),
    adminApiKey: e.ADMIN_API_KEY,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    corsOrigins: e.CORS_ORIGINS,
    query: { timeoutMs: e.QUERY_TIMEOUT_MS, ratePerHour: e.QUERY_RATE_LIMIT_PER_HOUR },
  });
}
