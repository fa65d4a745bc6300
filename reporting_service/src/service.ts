import { Queue } from 'bullmq';
import {
  closeMongo,
  closeRedis,
  createRedisConnection,
  connectMongoAtStart,
  createServiceMetrics,
  logger,
  type StartedService,
} from '@analytics/common';
import type mongoose from 'mongoose';
import { createApp } from './app';
import type { ReportingConfig } from './config';

/** Bound on each Redis command of the queue dashboard, so a frozen Redis is an error, not a hang. */
const REDIS_COMMAND_TIMEOUT_MS = 2000;

export interface ReportingService extends StartedService {
  mongo: mongoose.Connection;
}

/** Connects MongoDB and builds the app; index.ts starts here. */
export async function startReporting(config: Readonly<ReportingConfig>): Promise<ReportingService> {
  if (config.adminApiKey === undefined) {
    logger.warn('ADMIN_API_KEY is not set: site administration is open to anyone who can reach this port', {
      hint: 'set ADMIN_API_KEY (required when NODE_ENV=production)',
    });
  }
  const mongo = await connectMongoAtStart(config.mongodbUri, 'reporting_service');
  const metrics = createServiceMetrics('reporting_service');
  // Only the queue dashboard uses Redis: reporting starts and answers everything else without it.
  const redis = createRedisConnection(config.redis.url, 'producer', {
    connectionName: 'reporting_service',
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
  });
  const eventsQueue = new Queue(config.queueName, { connection: redis, prefix: config.redis.prefix });
  // The connection logs each outage once; the queue would repeat it.
  eventsQueue.on('error', () => undefined);
  return {
    app: createApp({ config, mongo, metrics, eventsQueue }),
    metrics,
    mongo,
    closers: [
      { name: 'queue', close: () => eventsQueue.close() },
      { name: 'redis', close: () => closeRedis(redis) },
      { name: 'mongodb', close: () => closeMongo(mongo) },
    ],
  };
}
