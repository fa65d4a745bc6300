import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { errorHandler, notFound } from './error-handler';
import { requestContext } from './request-context';
import { withTimeout } from '../timeout';

/** Resolves when the dependency answers, rejects (or hangs) when it does not. */
export type HealthCheck = () => Promise<void>;

/**
 * A dependency the service can do without for a while: when its check fails (or hangs), the report marks
 * it `stale` and the service stays healthy and ready (ingestion without MongoDB: its site keys are in
 * memory).
 */
export interface TolerableHealthCheck {
  check: HealthCheck;
  whenFailing: 'stale';
}

export type HealthChecks = Record<string, HealthCheck | TolerableHealthCheck>;

export type CheckStatus = 'ok' | 'stale' | 'error';

/** Under the contract's 1 s answer, whatever a dependency does. */
export const HEALTH_CHECK_TIMEOUT_MS = 800;

export interface HealthReport {
  status: 'ok' | 'error';
  checks: Record<string, CheckStatus>;
  [extra: string]: unknown;
}

/**
 * Runs every named check in parallel, each bounded by a timeout. A failing check is `error` and makes the
 * whole report `error`, unless it is tolerable: then it is `stale` and the report stays `ok`.
 */
export async function runHealthChecks(
  checks: HealthChecks,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(
    names.map((name) => {
      const entry = checks[name]!;
      const check = typeof entry === 'function' ? entry : entry.check;
      return withTimeout(check(), timeoutMs, `health check ${name}`);
    }),
  );
  const report: HealthReport = { status: 'ok', checks: {} };
  results.forEach((result, i) => {
    const name = names[i]!;
    const entry = checks[name]!;
    if (result.status === 'fulfilled') {
      report.checks[name] = 'ok';
    } else if (typeof entry !== 'function' && entry.whenFailing === 'stale') {
      report.checks[name] = 'stale';
    } else {
      report.checks[name] = 'error';
      report.status = 'error';
    }
  });
  return report;
}

/**
 * Set once the process has begun to shut down: from then on GET /health/ready answers 503, so a load
 * balancer stops sending it work while it finishes what it accepted.
 */
let shuttingDown = false;

export function markNotReady(): void {
  shuttingDown = true;
}

/** Figures a service adds to its health report (queue depth, last runs...); failures are left out. */
export type HealthDetails = () => Promise<Record<string, unknown>>;

/** How often the event-loop delay is sampled. */
const DELAY_RESOLUTION_MS = 10;

/**
 * A sample of the delay histogram is the time between two ticks of its timer: the resolution plus the
 * delay (an idle process reads 10.1 ms). Only the part beyond the resolution is the delay.
 */
export function delayMs(nanoseconds: number): number {
  // Subtract first, then round to 0.01 ms: rounding first leaves float noise (0.09999999999999964).
  return Math.max(0, Math.round((nanoseconds / 1e6 - DELAY_RESOLUTION_MS) * 100) / 100);
}

/** Memory and event-loop delay of this process, for operators and the soak test. */
export function runtimeFigures(
  delay: Pick<IntervalHistogram, 'percentile' | 'max' | 'reset'>,
): Record<string, number> {
  const memory = process.memoryUsage();
  const figures = {
    rss_bytes: memory.rss,
    heap_used_bytes: memory.heapUsed,
    event_loop_delay_p50_ms: delayMs(delay.percentile(50)),
    event_loop_delay_p99_ms: delayMs(delay.percentile(99)),
    event_loop_delay_max_ms: delayMs(delay.max),
  };
  // Each report covers the time since the previous one.
  delay.reset();
  return figures;
}

/** GET /health: Part 1's report, plus the service's figures and the runtime figures of this process. */
export function healthHandler(checks: HealthChecks, details?: HealthDetails): RequestHandler {
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay.enable();
  return async (_req, res) => {
    const [report, extra] = await Promise.all([
      runHealthChecks(checks),
      details ? withTimeout(details(), HEALTH_CHECK_TIMEOUT_MS, 'health details').catch(() => ({})) : {},
    ]);
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(report.status === 'ok' ? 200 : 503)
      .json({ ...extra, runtime: runtimeFigures(delay), ...report });
  };
}

/** GET /health/live: the process answers (its event loop turns); no dependency is asked. */
export function liveHandler(): RequestHandler {
  return (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).json({ status: 'ok' });
  };
}

/**
 * GET /health/ready: the service can do its job: the checks of /health (a `stale` dependency keeps it
 * ready), without the figures; 503 once it is shutting down.
 */
export function readyHandler(checks: HealthChecks): RequestHandler {
  return async (_req, res) => {
    const report = await runHealthChecks(checks);
    res.setHeader('Cache-Control', 'no-store');
    if (shuttingDown) {
      res.status(503).json({ ...report, status: 'error', reason: 'shutting down' });
      return;
    }
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  };
}

/** GET /health, /health/live and /health/ready, for every service's app. */
export function healthRoutes(checks: HealthChecks, details?: HealthDetails): Router {
  const router = express.Router();
  router.get('/health', healthHandler(checks, details));
  router.get('/health/live', liveHandler());
  router.get('/health/ready', readyHandler(checks));
  return router;
}

/** The whole HTTP surface of a service that only reports its health (processor, cron). */
export function createHealthApp(checks: HealthChecks, details?: HealthDetails): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext());
  app.use(helmet());
  app.use(healthRoutes(checks, details));
  app.use(notFound());
  app.use(errorHandler());
  return app;
}
