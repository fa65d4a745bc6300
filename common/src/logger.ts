import winston from 'winston';
import { getContext } from './context';

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const addContext = winston.format((info) => {
  const context = getContext();
  if (context) {
    if (context.requestId) info.request_id = context.requestId;
    if (context.jobId) info.job_id = context.jobId;
    if (context.siteId) info.site_id = context.siteId;
  }
  return info;
});

/**
 * One JSON logger per process. Creating it touches nothing; `configureLogger` sets the service name
 * and level once the configuration is known.
 */
export const logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(
    addContext(),
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    winston.format.json(),
  ),
  transports: [new winston.transports.Console()],
});

export function configureLogger(options: { service: string; level: LogLevel }): void {
  logger.level = options.level;
  logger.defaultMeta = { service: options.service };
}

/** Turns an unknown thrown value into log metadata that keeps the stack. */
export function errorMeta(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { error: error.message, error_name: error.name, stack: error.stack };
  }
  return { error: String(error) };
}
