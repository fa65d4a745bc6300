import path from 'node:path';
import Joi from 'joi';
import {
  LOG_LEVEL,
  MONGODB_URI,
  NODE_ENV,
  QUEUE_NAME,
  REDIS_PREFIX,
  REDIS_URL,
  freezeDeep,
  loadEnvFile,
  parseEnv,
  portVariable,
  type LogLevel,
} from '@analytics/common';

export const SERVICE_NAME = 'cron_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

export interface CronConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  logLevel: LogLevel;
  redis: { url: string; prefix: string };
  mongodbUri: string;
  queueName: string;
  retention: { days: number };
}

interface CronEnv {
  NODE_ENV: CronConfig['nodeEnv'];
  PORT: number;
  LOG_LEVEL: LogLevel;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  MONGODB_URI: string;
  QUEUE_NAME: string;
  RETENTION_DAYS: number;
}

const envSchema = Joi.object<CronEnv>({
  NODE_ENV,
  PORT: portVariable(3002),
  LOG_LEVEL,
  REDIS_URL,
  REDIS_PREFIX,
  MONGODB_URI,
  QUEUE_NAME,
  RETENTION_DAYS: Joi.number().integer().min(1).max(3650).default(30),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<CronConfig> {
  if (env === process.env) loadEnvFile(SERVICE_DIR);
  const e = parseEnv(envSchema, env);
  return freezeDeep({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    mongodbUri: e.MONGODB_URI,
    queueName: e.QUEUE_NAME,
    retention: { days: e.RETENTION_DAYS },
  });
}
