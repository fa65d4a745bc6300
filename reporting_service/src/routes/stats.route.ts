import { Router, type RequestHandler } from 'express';
import type { createStatsController } from '../controllers/stats.controller';

export function createStatsRouter(
  controller: ReturnType<typeof createStatsController>,
  requireReader: RequestHandler,
): Router {
  const router = Router();
  router.get('/stats', requireReader, controller.getStats);
  return router;
}
