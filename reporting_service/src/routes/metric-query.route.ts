import { Router, type RequestHandler } from 'express';
import type { createMetricQueryController } from '../controllers/metric-query.controller';

export function createMetricQueryRouter(
  controller: ReturnType<typeof createMetricQueryController>,
  requireReader: RequestHandler,
  cors: RequestHandler,
): Router {
  const router = Router();
  router.options('/metrics/query', cors);
  router.get('/metrics/query', cors, requireReader, controller.getMetricQuery);
  return router;
}
