import {
  closeRedis,
  closeServer,
  configureLogger,
  connectMongo,
  createRedisConnection,
  createShutdown,
  exitOnStartupFailure,
  loadConfigOrExit,
  logger,
  pingMongo,
  redactUri,
  signalReady,
} from '@analytics/common';
import { createApp } from './app';
import { loadConfig, SERVICE_NAME } from './config';
import { createEventQueue } from './repositories/event-queue.repository';
import { createSiteRepository } from './repositories/site.repository';
import { SiteKeyCache } from './services/site-key-cache';

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig(), SERVICE_NAME);
  configureLogger({ service: SERVICE_NAME, level: config.logLevel });
  const shutdown = createShutdown();
  shutdown.handleSignals();

  const mongo = await connectMongo(config.mongodbUri, { appName: SERVICE_NAME }).catch((error: unknown) =>
    exitOnStartupFailure(
      SERVICE_NAME,
      `cannot reach MongoDB at ${redactUri(config.mongodbUri)}`,
      error,
      'Start MongoDB or set MONGODB_URI.',
    ),
  );
  const sites = new SiteKeyCache(createSiteRepository(mongo), config.sites.refreshIntervalMs);
  await sites
    .start()
    .catch((error: unknown) =>
      exitOnStartupFailure(SERVICE_NAME, 'cannot read the sites from MongoDB', error, 'Check MONGODB_URI.'),
    );

  // Redis may come later: the producer reconnects by itself and answers 503 until then.
  const redis = createRedisConnection(config.redis.url, 'producer', {
    commandTimeoutMs: config.redis.commandTimeoutMs,
    connectionName: SERVICE_NAME,
  });
  const queue = createEventQueue({
    redis,
    queueName: config.queueName,
    prefix: config.redis.prefix,
    timeoutMs: config.redis.commandTimeoutMs + 200,
  });

  const app = createApp({
    config,
    redis,
    queue,
    sites,
    checks: { redis: () => queue.ping(), mongodb: () => pingMongo(mongo) },
  });
  const server = app.listen(config.port, () => {
    logger.info('ingestion listening', { port: config.port, sites: sites.size });
    signalReady();
  });
  server.on('error', (error) =>
    exitOnStartupFailure(SERVICE_NAME, `cannot listen on port ${config.port}`, error, 'Free the port or set PORT.'),
  );

  // Stop accepting, let accepted requests finish their enqueue, then close the connections.
  shutdown.add({ name: 'http', close: () => closeServer(server) });
  shutdown.add({ name: 'site refresh', close: () => sites.stop() });
  shutdown.add({ name: 'queue', close: () => queue.close() });
  shutdown.add({ name: 'redis', close: () => closeRedis(redis) });
  shutdown.add({ name: 'mongodb', close: () => mongo.close() });
}

void main();
