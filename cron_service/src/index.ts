import {
  closeRedis,
  closeServer,
  configureLogger,
  connectMongo,
  createHealthApp,
  createRedisConnection,
  createShutdown,
  exitOnStartupFailure,
  loadConfigOrExit,
  logger,
  pingMongo,
  pingRedis,
  redactUri,
  signalReady,
} from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';

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
  const redis = createRedisConnection(config.redis.url, 'worker', { connectionName: SERVICE_NAME });
  const app = createHealthApp({ redis: () => pingRedis(redis), mongodb: () => pingMongo(mongo) });
  const server = app.listen(config.port, () => {
    logger.info('listening', { port: config.port });
    signalReady();
  });
  server.on('error', (error) =>
    exitOnStartupFailure(
      SERVICE_NAME,
      `cannot listen on port ${config.port}`,
      error,
      'Free the port or set PORT.',
    ),
  );
  shutdown.add({ name: 'http', close: () => closeServer(server) });
  shutdown.add({ name: 'redis', close: () => closeRedis(redis) });
  shutdown.add({ name: 'mongodb', close: () => mongo.close() });
}

void main();
