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

export const SERVICE_NAME = 'processor_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

export interface ProcessorConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  logLevel: LogLevel;
  redis: { url: string; prefix: string };
  mongodbUri: string;
  queueName: string;
  worker: { concurrency: number };
}

interface ProcessorEnv {
  NODE_ENV: ProcessorConfig['nodeEnv'];
  PORT: number;
  LOG_LEVEL: LogLevel;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  MONGODB_URI: string;
  QUEUE_NAME: string;
  WORKER_CONCURRENCY: number;
}

const envSchema = Joi.object<ProcessorEnv>({
  NODE_ENV,
  PORT: portVariable(3001),
  LOG_LEVEL,
  REDIS_URL,
  REDIS_PREFIX,
  MONGODB_URI,
  QUEUE_NAME,
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(1000).default(50),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ProcessorConfig> {
  if (env === process.env) loadEnvFile(SERVICE_DIR);
  const e = parseEnv(envSchema, env);
  return freezeDeep({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    mongodbUri: e.MONGODB_URI,
    queueName: e.QUEUE_NAME,
    worker: { concurrency: e.WORKER_CONCURRENCY },
  });
}
