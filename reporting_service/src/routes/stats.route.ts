import { Router, type RequestHandler } from 'express';
import type { createStatsController } from '../controllers/stats.controller';

export function createStatsRouter(
  controller: ReturnType<typeof createStatsController>,
  requireReader: RequestHandler,
  cors: RequestHandler,
): Router {
  const router = Router();
  router.options('/stats', cors);
  router.get('/stats', cors, requireReader, controller.getStats);
  return router;
}
