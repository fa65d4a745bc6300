import {
  answerClientErrorsWithJson,
  closeMongo,
  closeServer,
  configureLogger,
  connectMongo,
  createShutdown,
  exitOnStartupFailure,
  loadConfigOrExit,
  logger,
  redactUri,
  signalReady,
} from '@analytics/common';
import { createApp } from './app';
import { loadConfig, SERVICE_NAME } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig(), SERVICE_NAME);
  configureLogger({ service: SERVICE_NAME, level: config.logLevel });
  const shutdown = createShutdown();
  shutdown.handleSignals();
  if (config.adminApiKey === undefined) {
    logger.warn('ADMIN_API_KEY is not set: site administration is open to anyone who can reach this port', {
      hint: 'set ADMIN_API_KEY (required when NODE_ENV=production)',
    });
  }

  const mongo = await connectMongo(config.mongodbUri, { appName: SERVICE_NAME }).catch((error: unknown) =>
    exitOnStartupFailure(
      SERVICE_NAME,
      `cannot reach MongoDB at ${redactUri(config.mongodbUri)}`,
      error,
      'Start MongoDB or set MONGODB_URI.',
    ),
  );
  const app = createApp({ config, mongo });
  const server = app.listen(config.port, () => {
    logger.info('reporting listening', { port: config.port });
    signalReady();
  });
  answerClientErrorsWithJson(server);
  server.on('error', (error) =>
    exitOnStartupFailure(
      SERVICE_NAME,
      `cannot listen on port ${config.port}`,
      error,
      'Free the port or set PORT.',
    ),
  );
  shutdown.add({ name: 'http', close: () => closeServer(server) });
  shutdown.add({ name: 'mongodb', close: () => closeMongo(mongo) });
}

void main();
