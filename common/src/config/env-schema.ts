import Joi from 'joi';
import { LOG_LEVELS } from '../logger';

/** Joi fragments for the variables several services share; each service composes its own schema. */
export const NODE_ENV = Joi.string().valid('development', 'production', 'test').default('development');
export const LOG_LEVEL = Joi.string()
  .valid(...LOG_LEVELS)
  .default('info');
export const REDIS_URL = Joi.string()
  .uri({ scheme: ['redis', 'rediss'] })
  .default('redis://127.0.0.1:6379');
export const MONGODB_URI = Joi.string()
  .uri({ scheme: ['mongodb', 'mongodb+srv'] })
  .default('mongodb://127.0.0.1:27017/analytics');
export const QUEUE_NAME = Joi.string()
  .pattern(/^[A-Za-z0-9._-]{1,100}$/)
  .default('analytics-events')
  .messages({ 'string.pattern.base': '{#label} must be 1-100 of A-Z a-z 0-9 . _ -' });
/** `name` or `{name}`: braces only as one hash tag around the whole prefix. */
export const REDIS_PREFIX_PATTERN = /^(?:\{[A-Za-z0-9._-]{1,48}\}|[A-Za-z0-9._-]{1,50})$/;

/**
 * Prefix of every Redis key the services write (BullMQ's prefix too), so several installs share one Redis.
 * A hash-tagged prefix (`{analytics}`) puts every key of the install in one Redis Cluster slot, which
 * BullMQ's multi-key scripts and the rate limiter's need on a cluster (docs/operations.md, Redis Cluster).
 */
export const REDIS_PREFIX = Joi.string().pattern(REDIS_PREFIX_PATTERN).default('analytics').messages({
  'string.pattern.base':
    '{#label} must be 1-50 of A-Z a-z 0-9 . _ -, or a Redis Cluster hash tag: 1-48 of them in braces',
});

export function portVariable(defaultPort: number): Joi.NumberSchema {
  return Joi.number().integer().min(0).max(65535).default(defaultPort);
}

/** Express `trust proxy`: `false` (default), `true`, a hop count, or addresses/subnets/names like `loopback`. */
export const TRUST_PROXY = Joi.string()
  .pattern(/^(true|false|\d+|[0-9A-Za-z.:/, ]+)$/)
  .default('false');

export type TrustProxySetting = boolean | number | string;

export function parseTrustProxy(value: string): TrustProxySetting {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
