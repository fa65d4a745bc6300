import type { Queue } from 'bullmq';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type mongoose from 'mongoose';
import {
  errorHandler,
  healthRoutes,
  httpMetrics,
  notFound,
  counter,
  pingMongo,
  requestContext,
  type ServiceMetrics,
} from '@analytics/common';
import type { ReportingConfig } from './config';
import { createExportController } from './controllers/export.controller';
import { createSiteController } from './controllers/site.controller';
import { createUserController } from './controllers/user.controller';
import { requireAdminOrBasic } from './middlewares/board-auth.middleware';
import { createExportRouter } from './routes/export.route';
import { createQueueBoardRouter } from './routes/queue-board.route';
import { createUserRouter } from './routes/user.route';
import { createUserErasureRepository } from './repositories/user-erasure.repository';
import { createStatsController } from './controllers/stats.controller';
import { requireReader } from './middlewares/read-auth.middleware';
import { readCors } from './middlewares/read-cors.middleware';
import { createStatsRouter } from './routes/stats.route';
import { requireAdmin } from './middlewares/admin-auth.middleware';
import { createSiteDomainRepository } from './repositories/site-domain.repository';
import { createSiteRepository } from './repositories/site.repository';
import { createSiteRouter } from './routes/site.route';
import { createStatsService } from './services/stats.service';
import { createQueryController } from './controllers/query.controller';
import { queryRateLimit } from './middlewares/query-rate-limit.middleware';
import { createQueryRouter } from './routes/query.route';
import { createQueryService } from './services/query.service';
import { createDashboardSummaryController } from './controllers/dashboard-summary.controller';
import { createDashboardSummaryRouter } from './routes/dashboard-summary.route';
import { createDashboardSummaryService } from './services/dashboard-summary.service';
import { createDashboardRouter } from './routes/dashboard.route';
import { createMetricQueryController } from './controllers/metric-query.controller';
import { createMetricQueryRouter } from './routes/metric-query.route';
import { createMetricQueryService } from './services/metric-query.service';

export interface ReportingDeps {
  config: Readonly<ReportingConfig>;
  mongo: mongoose.Connection;
  /** The clock of the default window (tests pin it). */
  now?: () => Date;
  metrics?: ServiceMetrics;
  /** The events queue, shown read-only at /admin/queues (not mounted without it). */
  eventsQueue?: Queue;
}

export const EXPORTS_METRIC = 'analytics_exports_total';

/** The Express app, without listen(), so tests drive it with supertest. */
export function createApp(deps: ReportingDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.set('query parser', 'simple');
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(requestContext());
  const adminOnly = requireAdmin(deps.config.adminApiKey);
  // Before helmet's default policy: the board gets a CSP of its own (routes/queue-board.route.ts).
  if (deps.eventsQueue) {
    app.use(createQueueBoardRouter(deps.eventsQueue, requireAdminOrBasic(deps.config.adminApiKey)));
  }
  app.use(helmet());

  app.use(createDashboardRouter());
  app.use(healthRoutes({ mongodb: () => pingMongo(deps.mongo) }));
  const sites = createSiteRepository(deps.mongo);
  const domains = createSiteDomainRepository(deps.mongo);
  const readers = requireReader(sites, deps.config.adminApiKey);
  const cors = readCors(deps.config.corsOrigins);
  app.use(createSiteRouter(createSiteController({ sites, domains }), adminOnly, readers, cors));
  app.use(
    createStatsRouter(createStatsController(createStatsService(sites, deps.mongo, deps.now)), readers, cors),
  );
  const exportCounter = deps.metrics
    ? counter(deps.metrics.registry, EXPORTS_METRIC, 'Exports of raw events, by format and outcome', [
        'format',
        'outcome',
      ])
    : undefined;
  app.use(
    createExportRouter(
      createExportController({ sites, mongo: deps.mongo, exports: exportCounter }),
      adminOnly,
    ),
  );
  app.use(
    createUserRouter(
      createUserController({ sites, erasures: createUserErasureRepository(deps.mongo), mongo: deps.mongo }),
      adminOnly,
    ),
  );
  const queries = createQueryService(sites, deps.mongo, {
    timeoutMs: deps.config.query.timeoutMs,
    ...(deps.now && { now: deps.now }),
  });
  app.use(
    createQueryRouter(
      createQueryController(queries),
      readers,
      cors,
      queryRateLimit(deps.config.query.ratePerHour),
    ),
  );
  app.use(
    createDashboardSummaryRouter(
      createDashboardSummaryController(createDashboardSummaryService(queries, deps.mongo, deps.now)),
      readers,
      cors,
    ),
  );
  app.use(
    createMetricQueryRouter(
      createMetricQueryController(createMetricQueryService(sites, deps.mongo)),
      readers,
      cors,
    ),
  );
  app.use(notFound());
  app.use(errorHandler());
  return app;
}
