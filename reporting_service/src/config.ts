import path from 'node:path';
import Joi from 'joi';
import {
  LOG_LEVEL,
  MONGODB_URI,
  NODE_ENV,
  freezeDeep,
  loadEnvFile,
  parseEnv,
  parseTrustProxy,
  TRUST_PROXY,
  type TrustProxySetting,
  portVariable,
  type LogLevel,
} from '@analytics/common';

export const SERVICE_NAME = 'reporting_service';
export const SERVICE_DIR = path.resolve(__dirname, '..');

export interface ReportingConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  logLevel: LogLevel;
  mongodbUri: string;
  /** Undefined only outside production: administration is then open, with a warning at start. */
  adminApiKey: string | undefined;
  trustProxy: TrustProxySetting;
}

interface ReportingEnv {
  NODE_ENV: ReportingConfig['nodeEnv'];
  PORT: number;
  LOG_LEVEL: LogLevel;
  MONGODB_URI: string;
  ADMIN_API_KEY?: string;
  TRUST_PROXY: string;
}

const envSchema = Joi.object<ReportingEnv>({
  NODE_ENV,
  PORT: portVariable(4000),
  LOG_LEVEL,
  MONGODB_URI,
  // Empty counts as unset, so a copied .env.example works as it is.
  ADMIN_API_KEY: Joi.string()
    .empty('')
    .min(16)
    .max(200)
    .when('NODE_ENV', { is: 'production', then: Joi.required() })
    .messages({ 'any.required': 'ADMIN_API_KEY is required when NODE_ENV=production' }),
  TRUST_PROXY,
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ReportingConfig> {
  if (env === process.env) loadEnvFile(SERVICE_DIR);
  const e = parseEnv(envSchema, env);
  return freezeDeep({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    adminApiKey: e.ADMIN_API_KEY,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
  });
}
