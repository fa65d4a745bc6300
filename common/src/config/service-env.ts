import Joi from 'joi';
import { faultModeVariable, PROCESS_FAULTS, type ProcessFault } from '../config/fault-variables';
import type { LogLevel } from '../logger';
import {
  LOG_LEVEL,
  MONGODB_URI,
  NODE_ENV,
  QUEUE_NAME,
  REDIS_PREFIX,
  REDIS_URL,
  portVariable,
} from './env-schema';
import { parseEnv } from './load-config';
import { instanceMetricsPort } from '../metrics/metrics';
import { loadEnvFile } from './load-env-file';

/** What every service reads, as the environment holds it after validation. */
export interface BaseEnv {
  NODE_ENV: 'development' | 'production' | 'test';
  PORT: number;
  LOG_LEVEL: LogLevel;
  MONGODB_URI: string;
  PROCESS_FAULT?: ProcessFault;
  METRICS_PORT: number;
  METRICS_HOST: string;
}

export interface BaseConfig {
  nodeEnv: BaseEnv['NODE_ENV'];
  port: number;
  logLevel: LogLevel;
  mongodbUri: string;
  /** Test-only fault injection (refused when NODE_ENV=production); see PROCESS_FAULTS. */
  processFault: ProcessFault | undefined;
  /** The Prometheus listener of this instance (METRICS_PORT plus pm2's NODE_APP_INSTANCE); port 0: off. */
  metrics: { port: number; host: string };
}

/** What the services that share the events queue read. */
export interface QueueEnv {
  REDIS_URL: string;
  REDIS_PREFIX: string;
  QUEUE_NAME: string;
}

export interface QueueConfig {
  redis: { url: string; prefix: string };
  queueName: string;
}

/** The schema keys of BaseEnv, with the service's own default ports (HTTP, metrics). */
export function baseEnvKeys(defaultPort: number, defaultMetricsPort: number): Joi.PartialSchemaMap<BaseEnv> {
  return {
    NODE_ENV,
    PORT: portVariable(defaultPort),
    METRICS_PORT: portVariable(defaultMetricsPort),
    METRICS_HOST: Joi.string().hostname().default('127.0.0.1'),
    LOG_LEVEL,
    MONGODB_URI,
    PROCESS_FAULT: faultModeVariable('PROCESS_FAULT', PROCESS_FAULTS),
  };
}

export const QUEUE_ENV_KEYS: Joi.PartialSchemaMap<QueueEnv> = Object.freeze({
  REDIS_URL,
  REDIS_PREFIX,
  QUEUE_NAME,
});

export function baseConfig(e: BaseEnv): BaseConfig {
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    processFault: e.PROCESS_FAULT,
    metrics: { port: instanceMetricsPort(e.METRICS_PORT), host: e.METRICS_HOST },
  };
}

export function queueConfig(e: QueueEnv): QueueConfig {
  return { redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX }, queueName: e.QUEUE_NAME };
}

/**
 * Validates a service's environment; when it is the process's own, the service's `.env` fills in what the
 * environment lacks first (tests pass an object and get exactly that).
 */
export function readServiceEnv<T>(
  schema: Joi.ObjectSchema<T>,
  env: NodeJS.ProcessEnv,
  serviceDir: string,
): T {
  if (env === process.env) loadEnvFile(serviceDir);
  return parseEnv(schema, env);
}
