import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import {
  errorHandler,
  fixedHeaders,
  healthRoutes,
  notFound,
  requestContext,
  type HealthCheck,
  type TolerableHealthCheck,
  httpMetrics,
  packMetricJobs,
  type AcceptedMetricRequest,
  type ServiceMetrics,
} from '@analytics/common';
import type { IngestionConfig } from './config';
import { createEventController } from './controllers/event.controller';
import { injectFaults } from './faults';
import { eventMetrics } from './middlewares/event-metrics.middleware';
import type { EventQueue } from './repositories/event-queue.repository';
import type { MetricQueue } from './repositories/metric-queue.repository';
import { createMetricController } from './controllers/metric.controller';
import { createMetricRouter } from './routes/metric.route';
import { MetricIntake } from './services/metric-intake.service';
import { createEventRouter } from './routes/event.route';
import { createPlausibleController } from './controllers/plausible.controller';
import { createSegmentController } from './controllers/segment.controller';
import { createUmamiController } from './controllers/umami.controller';
import { createCompatibilityRouter, KEYLESS_PATHS, SEGMENT_PATHS } from './routes/compatibility.route';
import { createTrackerScriptController } from './controllers/tracker-script.controller';
import { createTrackerScriptRouter } from './routes/tracker-script.route';
import { loadTrackerScript, type TrackerScript } from './services/tracker-script.service';
import type { CountryLookup } from './services/country.service';
import type { DroppedEvents } from './services/dropped-events.service';
import { EventEnricher } from './services/event-enrichment.service';
import { EventIntake } from './services/event-intake.service';
import { GroupCommit } from './services/group-commit.service';
import { RateLimits } from './services/rate-limit.service';
import type { SiteKeyCache } from './services/site-key-cache.service';
import { siteSettingsOf, type SiteSettingsView } from './services/site-settings.service';
import type { VisitorSalts } from './services/visitor-salt.service';

export interface IngestionDeps {
  config: Readonly<IngestionConfig>;
  /** The producer connection: rate limits count here, and the queue writes here. */
  redis: Redis;
  queue: EventQueue;
  /** `POST /metrics` answers 404 without it (tests that do not need it). */
  metricQueue?: MetricQueue;
  sites: SiteKeyCache;
  /** A site's time zone and domains; the site view itself unless a test stubs them. */
  siteSettings?: SiteSettingsView;
  countries: CountryLookup;
  salts: VisitorSalts;
  dropped: DroppedEvents;
  /** MongoDB is tolerable: the site keys are in memory, so ingestion works on while it is down. */
  checks: { redis: HealthCheck; mongodb: TolerableHealthCheck };
  /** The tracker tag; read from the build when not given. */
  trackerScript?: TrackerScript;
  /** Prometheus series of this instance; none in tests that do not look at them. */
  metrics?: ServiceMetrics;
}

/** The Express app, without listen(), so tests drive it with supertest. */
export function createApp(deps: IngestionDeps): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');
  // Nothing ingestion answers is cacheable. Without an ETag, Express also keeps a short JSON body a string,
  // which Node sends in one write with the headers instead of hashing it and writing two buffers.
  app.set('etag', false);

  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(requestContext());
  // Pages of every site load the tracker and read ingestion's answers: helmet's default
  // Cross-Origin-Resource-Policy (same-origin) would make browsers block them; the rest of helmet stays.
  // helmet's headers are the same on every answer: set from one run of it at startup (fixedHeaders).
  app.use(fixedHeaders(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } })));
  // Trackers post from every site's own origin; the write key, not the origin, authorises them.
  app.use(
    cors({
      origin: '*',
      methods: ['POST', 'GET'],
      // Authorization: Segment's write key (Basic); x-umami-cache: Umami's script echoes a token it was given
      allowedHeaders: ['Content-Type', 'X-API-Key', 'X-Request-Id', 'Authorization', 'X-Umami-Cache'],
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
      maxAge: 86_400,
    }),
  );

  const limits = new RateLimits(deps.redis, {
    ipPerMinute: config.rateLimits.ipPerMinute,
    sitePerSecond: config.rateLimits.sitePerSecond,
    keylessSitePerSecond: config.rateLimits.keylessSitePerSecond,
    redisPrefix: config.redis.prefix,
  });
  const enricher = new EventEnricher({
    countries: deps.countries,
    salts: deps.salts,
    siteSettings: deps.siteSettings ?? siteSettingsOf(deps.sites),
  });
  const intake = new EventIntake({
    sites: deps.sites,
    enricher,
    dropped: deps.dropped,
    commits: new GroupCommit({ limits, queue: deps.queue, deadlineMs: config.commitDeadlineMs }),
    maxEventAgeMs: config.events.maxAgeMs,
  });
  app.use(healthRoutes(deps.checks));
  const faults = injectFaults(config.fault);
  const eventPaths = ['/event', '/events', ...SEGMENT_PATHS, ...KEYLESS_PATHS];
  if (faults) app.post(eventPaths, faults);
  if (deps.metrics) app.use(eventPaths, eventMetrics(deps.metrics));
  app.use(createEventRouter(createEventController(intake)));
  const keyless = { intake, sites: deps.sites, dropped: deps.dropped };
  app.use(
    createCompatibilityRouter({
      segment: createSegmentController({
        intake,
        dropped: deps.dropped,
        maxEventAgeMs: config.events.maxAgeMs,
      }),
      plausible: createPlausibleController(keyless),
      umami: createUmamiController(keyless),
    }),
  );
  const { metricQueue } = deps;
  if (metricQueue) {
    const metricIntake = new MetricIntake({
      keys: intake,
      enricher,
      commits: new GroupCommit<AcceptedMetricRequest>({
        limits,
        store: (requests) => metricQueue.enqueue(packMetricJobs(requests)),
        deadlineMs: config.commitDeadlineMs,
      }),
      maxEventAgeMs: config.events.maxAgeMs,
    });
    app.use(createMetricRouter(createMetricController(metricIntake)));
  }
  app.use(
    createTrackerScriptRouter(createTrackerScriptController(deps.trackerScript ?? loadTrackerScript())),
  );
  app.use(notFound());
  app.use(errorHandler());
  return app;
}
