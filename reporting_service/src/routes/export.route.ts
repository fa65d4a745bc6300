import { Router, type RequestHandler } from 'express';
import type { createExportController } from '../controllers/export.controller';

/** Raw events of a site, streamed: the admin key only. */
export function createExportRouter(
  controller: ReturnType<typeof createExportController>,
  requireAdmin: RequestHandler,
): Router {
  const router = Router();
  router.get('/export', requireAdmin, controller.getExport);
  return router;
}
