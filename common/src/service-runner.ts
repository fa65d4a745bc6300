import type { Express } from 'express';
import { loadConfigOrExit } from './config/load-config';
import type { ProcessFault } from './config/fault-variables';
import { createAppServer } from './http/app-server';
import { answerClientErrorsWithJson } from './http/client-errors';
import { markNotReady } from './http/health';
import { withProcessFaultRoute } from './http/process-fault';
import { configureLogger, logger, type LogLevel } from './logger';
import { startMetricsListener, type ServiceMetrics } from './metrics/metrics';
import { stopOnFatalErrors } from './process-safety';
import { closeServer, createShutdown, signalReady, type ShutdownStep } from './shutdown';
import { exitOnStartupFailure, StartupError } from './startup';

/** What a service's start function hands back: its HTTP app and how to close what it opened. */
export interface StartedService {
  app: Express;
  /** In shutdown order; they run after the HTTP server has stopped accepting. */
  closers: ShutdownStep[];
  /** Extra fields of the "listening" log line. */
  describe?: () => Record<string, unknown>;
  /** Served on the metrics listener (METRICS_PORT), never on the public port. */
  metrics?: ServiceMetrics;
}

/** What runService reads from every service's configuration. */
export interface ServiceBaseConfig {
  port: number;
  logLevel: LogLevel;
  processFault?: ProcessFault;
  metrics: { port: number; host: string };
}

export interface ServiceDefinition<C extends ServiceBaseConfig> {
  name: string;
  loadConfig: () => C;
  start: (config: C) => Promise<StartedService>;
}

/**
 * The whole life of a service process, the same for all four: configuration (one line and exit 1 when
 * invalid), logger, signal handling, start (one line and exit 1 when a dependency is unreachable),
 * listen, pm2's ready signal, and on SIGTERM/SIGINT: stop accepting, finish what was accepted, close
 * the rest, exit 0. An uncaught exception or unhandled rejection is logged and takes the same shutdown
 * path, exiting 1 so pm2 restarts the service.
 */
export async function runService<C extends ServiceBaseConfig>(
  definition: ServiceDefinition<C>,
): Promise<void> {
  const { name } = definition;
  const config = loadConfigOrExit(definition.loadConfig, name);
  configureLogger({ service: name, level: config.logLevel });
  const shutdown = createShutdown();
  shutdown.handleSignals();
  stopOnFatalErrors(shutdown);

  const service = await definition.start(config).catch((error: unknown) => {
    if (error instanceof StartupError) {
      exitOnStartupFailure(name, error.what, error.cause, error.hint);
    }
    throw error;
  });
  const app = config.processFault ? withProcessFaultRoute(service.app, config.processFault) : service.app;
  const server = createAppServer(app).listen(config.port, () => {
    logger.info('listening', { port: config.port, ...service.describe?.() });
    signalReady();
  });
  answerClientErrorsWithJson(server);
  server.on('error', (error) =>
    exitOnStartupFailure(name, `cannot listen on port ${config.port}`, error, 'Free the port or set PORT.'),
  );
  const metricsListener = service.metrics
    ? startMetricsListener(service.metrics.registry, config.metrics)
    : undefined;
  shutdown.add({ name: 'readiness', close: () => markNotReady() });
  shutdown.add({ name: 'http', close: () => closeServer(server) });
  if (metricsListener) shutdown.add({ name: 'metrics', close: () => metricsListener.close() });
  for (const closer of service.closers) shutdown.add(closer);
}
