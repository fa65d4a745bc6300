import { Router, type RequestHandler } from 'express';
import type { createDashboardSummaryController } from '../controllers/dashboard-summary.controller';

export function createDashboardSummaryRouter(
  controller: ReturnType<typeof createDashboardSummaryController>,
  requireReader: RequestHandler,
  cors: RequestHandler,
): Router {
  const router = Router();
  router.options('/dashboard', cors);
  router.get('/dashboard', cors, requireReader, controller.get);
  return router;
}
