import {
  closeMongo,
  connectMongoAtStart,
  createServiceMetrics,
  logger,
  type StartedService,
} from '@analytics/common';
import type mongoose from 'mongoose';
import { createApp } from './app';
import type { ReportingConfig } from './config';

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
  return {
    app: createApp({ config, mongo, metrics }),
    metrics,
    mongo,
    closers: [{ name: 'mongodb', close: () => closeMongo(mongo) }],
  };
}
