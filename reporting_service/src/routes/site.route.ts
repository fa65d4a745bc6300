import { Router, type RequestHandler } from 'express';
import { jsonBody } from '@analytics/common';
import type { createSiteController } from '../controllers/site.controller';

export const SITE_BODY_LIMIT = '16kb';

export function createSiteRouter(
  controller: ReturnType<typeof createSiteController>,
  requireAdmin: RequestHandler,
): Router {
  const router = Router();
  router.post('/sites', requireAdmin, ...jsonBody(SITE_BODY_LIMIT), controller.postSite);
  router.post('/sites/:site_id/keys', requireAdmin, ...jsonBody(SITE_BODY_LIMIT), controller.postSiteKeys);
  return router;
}
