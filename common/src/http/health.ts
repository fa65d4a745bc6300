import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { errorHandler, notFound } from './error-handler';
import { requestContext } from './request-context';
import { withTimeout } from '../timeout';

export type HealthCheck = () => Promise<void>;

/** Under the contract's 1 s answer, whatever a dependency does. */
export const HEALTH_CHECK_TIMEOUT_MS = 800;

export interface HealthReport {
  status: 'ok' | 'error';
  checks: Record<string, 'ok' | 'error'>;
  [extra: string]: unknown;
}

/** Runs every named check in parallel, each bounded by a timeout; any failure makes the whole 503. */
export async function runHealthChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(
    names.map((name) => withTimeout(checks[name]!(), timeoutMs, `health check ${name}`)),
  );
  const report: HealthReport = { status: 'ok', checks: {} };
  results.forEach((result, i) => {
    report.checks[names[i]!] = result.status === 'fulfilled' ? 'ok' : 'error';
    if (result.status === 'rejected') report.status = 'error';
  });
  return report;
}

/** Figures a service adds to its health report (queue depth, last runs...); failures are left out. */
export type HealthDetails = () => Promise<Record<string, unknown>>;

/** How often the event-loop delay is sampled. */
const DELAY_RESOLUTION_MS = 10;

/**
 * A sample of the delay histogram is the time between two ticks of its timer: the resolution plus the
 * delay (an idle process reads 10.1 ms). Only the part beyond the resolution is the delay.
 */
function delayMs(nanoseconds: number): number {
  return Math.max(0, Math.round(nanoseconds / 1e4) / 100 - DELAY_RESOLUTION_MS);
}

/** Memory and event-loop delay of this process, for operators and the soak test. */
function runtimeFigures(delay: IntervalHistogram): Record<string, number> {
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

export function healthHandler(checks: Record<string, HealthCheck>, details?: HealthDetails): RequestHandler {
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

/** The whole HTTP surface of a service that only reports its health (processor, cron). */
export function createHealthApp(checks: Record<string, HealthCheck>, details?: HealthDetails): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext());
  app.use(helmet());
  app.get('/health', healthHandler(checks, details));
  app.use(notFound());
  app.use(errorHandler());
  return app;
}
