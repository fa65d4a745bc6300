import http from 'node:http';
import type { RequestHandler } from 'express';
import client, { type Counter, type Gauge, type Histogram, Registry } from 'prom-client';
import { errorMeta, logger } from '../logger';

/**
 * Prometheus metrics (contract Part 2, "Operations"): one registry per service instance, served on a
 * listener of its own (never the public port). Names are fixed and labels bounded: never a site, a user
 * or a path. docs/operations.md lists every series with example alerts.
 */
export const METRIC_NAMES = Object.freeze({
  httpDuration: 'http_request_duration_seconds',
  eventsAccepted: 'analytics_events_accepted_total',
  eventsDropped: 'analytics_events_dropped_total',
  eventsDuplicate: 'analytics_events_duplicate_total',
  queueWaiting: 'analytics_queue_waiting',
  queueOldestWaiting: 'analytics_queue_oldest_waiting_seconds',
  batchEvents: 'analytics_processor_batch_events',
  writeSeconds: 'analytics_processor_write_seconds',
  writeTimeouts: 'analytics_processor_write_timeouts_total',
  cronRuns: 'analytics_cron_runs_total',
});

export const DROP_REASONS = [
  'invalid',
  'unauthorized',
  'rate_limited',
  'bot',
  'unmappable',
  'props_dropped',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ServiceMetrics {
  service: string;
  registry: Registry;
  httpDuration: Histogram<'service' | 'route' | 'method' | 'status'>;
}

/** A registry with the default process metrics and the HTTP duration histogram every service has. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: METRIC_NAMES.httpDuration,
    help: 'HTTP requests by route template, method and status',
    labelNames: ['service', 'route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { service, registry, httpDuration };
}

/**
 * Times every request; the route label is the matched route's template (`/sites/:site_id`), or
 * `unmatched` (so a scan of random paths cannot grow the label set).
 */
export function httpMetrics(metrics: ServiceMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      metrics.httpDuration.observe(
        {
          service: metrics.service,
          route: typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched',
          method: req.method,
          status: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    next();
  };
}

/** The registry's counter of that name, created on first use (two parts of a service may count into it). */
export function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new client.Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge(registry: Registry, name: string, help: string, collect: () => Promise<number>): Gauge {
  return new client.Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      try {
        this.set(await collect());
      } catch {
        // the dependency is down: /health says so; the series keeps its last value
      }
    },
  });
}

export function histogram(registry: Registry, name: string, help: string, buckets: number[]): Histogram {
  return new client.Histogram({ name, help, buckets, registers: [registry] });
}

export interface MetricsListenerOptions {
  /** 0 turns the listener off. */
  port: number;
  host: string;
}

/** The port of this instance: pm2 numbers the instances of an app (NODE_APP_INSTANCE), so they never collide. */
export function instanceMetricsPort(basePort: number, instance = process.env.NODE_APP_INSTANCE): number {
  if (basePort === 0) return 0;
  const offset = Number(instance ?? 0);
  return basePort + (Number.isInteger(offset) && offset > 0 ? offset : 0);
}

/**
 * `GET /metrics` (text exposition) on its own listener, bound to `host` (127.0.0.1 by default): scraped by
 * Prometheus on the machine or through a tunnel, never exposed with the public API. A port that is taken
 * is logged and the service runs on without metrics (metrics must never stop events).
 */
export function startMetricsListener(
  registry: Registry,
  options: MetricsListenerOptions,
): { close(): Promise<void> } | undefined {
  if (options.port === 0) return undefined;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text))
      .catch((error: unknown) => {
        logger.error('metrics could not be collected', errorMeta(error));
        res.writeHead(500).end();
      });
  });
  server.on('error', (error) =>
    logger.error('metrics listener failed; the service runs on without it', {
      port: options.port,
      host: options.host,
      hint: 'Set METRICS_PORT to a free port, or 0 to turn metrics off.',
      ...errorMeta(error),
    }),
  );
  server.listen(options.port, options.host, () =>
    logger.info('metrics listening', { port: options.port, host: options.host }),
  );
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
