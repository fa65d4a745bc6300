import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type mongoose from 'mongoose';
import {
  closeMongo,
  closeRedis,
  connectMongoAtStart,
  createRedisConnection,
  logger,
  waitForRedisReady,
  pingMongo,
  redactUri,
  StartupError,
  type ShutdownStep,
  createServiceMetrics,
  type ServiceMetrics,
} from '@analytics/common';
import { createApp } from './app';
import type { IngestionConfig } from './config';
import { createEventQueue, type EventQueue } from './repositories/event-queue.repository';
import { createMetricQueue } from './repositories/metric-queue.repository';
import { createSiteRepository } from './repositories/site.repository';
import { VisitorSaltRepository } from './repositories/visitor-salt.repository';
import { CountryLookup } from './services/country.service';
import { DroppedEvents } from './services/dropped-events.service';
import { SiteKeyCache } from './services/site-key-cache.service';
import type { SiteSettingsView } from './services/site-settings.service';
import { VisitorSalts } from './services/visitor-salt.service';

const REDIS_START_WAIT_MS = 3000;

export interface IngestionService {
  app: Express;
  metrics: ServiceMetrics;
  mongo: mongoose.Connection;
  redis: Redis;
  queue: EventQueue;
  sites: SiteKeyCache;
  /** Events answered as usual but counted in no statistic (bots). */
  dropped: DroppedEvents;
  /** In shutdown order, after the HTTP server has stopped accepting. */
  closers: ShutdownStep[];
}

export interface IngestionOverrides {
  /** Tests: sites' time zones and domains without the site view. */
  siteSettings?: SiteSettingsView;
}

/** Connects everything ingestion needs and builds the app; index.ts and the tests both start here. */
export async function startIngestion(
  config: Readonly<IngestionConfig>,
  overrides: IngestionOverrides = {},
): Promise<IngestionService> {
  // Read once, before anything connects: a missing or broken file stops the start with one clear line.
  const countries = await CountryLookup.open(config.countryDbPath).catch((error: unknown) => {
    throw new StartupError(
      `cannot read the country database ${config.countryDbPath ?? '(bundled)'}`,
      'Check COUNTRY_DB_PATH: an MMDB file readable by the service.',
      error,
    );
  });
  const mongo = await connectMongoAtStart(config.mongodbUri, 'ingestion_service');
  const sites = new SiteKeyCache(createSiteRepository(mongo), config.sites.refreshIntervalMs);
  await sites.start().catch(async (error: unknown) => {
    await mongo.close();
    throw new StartupError(
      `cannot read the sites from MongoDB at ${redactUri(config.mongodbUri)}`,
      'Check MONGODB_URI.',
      error,
    );
  });

  // Redis may come later: the producer reconnects by itself and answers 503 until then.
  const redis = createRedisConnection(config.redis.url, 'producer', {
    commandTimeoutMs: config.redis.commandTimeoutMs,
    connectionName: 'ingestion_service',
  });
  if (!(await waitForRedisReady(redis, REDIS_START_WAIT_MS))) {
    logger.warn('redis is not reachable yet; answering 503 until it is', { waitedMs: REDIS_START_WAIT_MS });
  }
  const queue = createEventQueue({
    redis,
    queueName: config.queueName,
    prefix: config.redis.prefix,
    timeoutMs: config.redis.commandTimeoutMs + 100,
  });
  const metricQueue = createMetricQueue({
    redis,
    queueName: config.queueName,
    prefix: config.redis.prefix,
    timeoutMs: config.redis.commandTimeoutMs + 100,
  });
  const metrics = createServiceMetrics('ingestion_service');
  const dropped = new DroppedEvents(metrics);
  const app = createApp({
    config,
    redis,
    queue,
    metricQueue,
    sites,
    metrics,
    siteSettings: overrides.siteSettings,
    countries,
    salts: new VisitorSalts(new VisitorSaltRepository(redis, config.redis.prefix), config.events.maxAgeMs),
    dropped,
    checks: {
      redis: () => queue.ping(),
      // Only the site keys come from MongoDB, and the last ones read stay in memory: stale, not down.
      mongodb: { check: () => pingMongo(mongo), whenFailing: 'stale' },
    },
  });
  return {
    app,
    metrics,
    mongo,
    redis,
    queue,
    sites,
    dropped,
    closers: [
      { name: 'site refresh', close: () => sites.stop() },
      { name: 'queue', close: () => queue.close() },
      { name: 'metric queue', close: () => metricQueue.close() },
      { name: 'redis', close: () => closeRedis(redis) },
      { name: 'mongodb', close: () => closeMongo(mongo) },
    ],
  };
}
