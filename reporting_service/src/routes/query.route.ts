import { Router, type RequestHandler } from 'express';
import { jsonBody } from '@analytics/common';
import type { createQueryController } from '../controllers/query.controller';

/** Query bodies are small; a filter list of 50 × 100 values still fits. */
const QUERY_BODY_LIMIT = '256kb';

export function createQueryRouter(
  controller: ReturnType<typeof createQueryController>,
  requireReader: RequestHandler,
  cors: RequestHandler,
  rateLimit: RequestHandler,
): Router {
  const router = Router();
  router.options('/api/v2/query', cors);
  router.post(
    '/api/v2/query',
    cors,
    requireReader,
    rateLimit,
    ...jsonBody(QUERY_BODY_LIMIT),
    controller.query,
  );
  return router;
}
