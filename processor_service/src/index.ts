import {
  answerClientErrorsWithJson,
  closeServer,
  configureLogger,
  createShutdown,
  exitOnStartupFailure,
  loadConfigOrExit,
  logger,
  redactUri,
  signalReady,
  StartupError,
} from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { startProcessor } from './service';

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig(), SERVICE_NAME);
  configureLogger({ service: SERVICE_NAME, level: config.logLevel });
  const shutdown = createShutdown();
  shutdown.handleSignals();

  const service = await startProcessor(config).catch((error: unknown) => {
    if (error instanceof StartupError) {
      exitOnStartupFailure(
        SERVICE_NAME,
        `${error.what} at ${redactUri(config.mongodbUri)}`,
        error.cause,
        error.hint,
      );
    }
    throw error;
  });
  const server = service.app.listen(config.port, () => {
    logger.info('processor listening', { port: config.port, concurrency: config.worker.concurrency });
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
  for (const closer of service.closers) shutdown.add(closer);
}

void main();
