import { Router } from 'express';
import { jsonBody } from '@analytics/common';
import type { createMetricController } from '../controllers/metric.controller';

/** One point or a batch of up to 500 on the same path: the batch's limit, as `/events`. */
export const METRIC_BODY_LIMIT = '1mb';

export function createMetricRouter(controller: ReturnType<typeof createMetricController>): Router {
  const router = Router();
  router.post(
    '/metrics',
    ...jsonBody(METRIC_BODY_LIMIT, ['application/json', 'text/plain']),
    controller.postMetrics,
  );
  return router;
}
