import { Router, type RequestHandler } from 'express';
import { jsonBody } from '@analytics/common';
import type { createSiteController } from '../controllers/site.controller';

export const SITE_BODY_LIMIT = '16kb';

export function createSiteRouter(
  controller: ReturnType<typeof createSiteController>,
  requireAdmin: RequestHandler,
  requireReader: RequestHandler,
  /** CORS for the one read endpoint here (GET /sites/:site_id); administration never answers CORS. */
  readCors: RequestHandler,
): Router {
  const router = Router();
  router.options('/sites/:site_id', readCors);
  router.post('/sites', requireAdmin, ...jsonBody(SITE_BODY_LIMIT), controller.postSite);
  router.get('/sites', requireAdmin, controller.getSites);
  router.get('/sites/:site_id', readCors, requireReader, controller.getSite);
  router.patch('/sites/:site_id', requireAdmin, ...jsonBody(SITE_BODY_LIMIT), controller.patchSite);
  router.delete('/sites/:site_id', requireAdmin, controller.deleteSite);
  router.post('/sites/:site_id/keys', requireAdmin, ...jsonBody(SITE_BODY_LIMIT), controller.postSiteKeys);
  return router;
}
