import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from '@analytics/common';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * What Bull Board's page needs, and no more: its own scripts and styles (it sets inline style attributes
 * and one <style> element), images from itself and data: URIs, API calls to itself. Its page also links a
 * web font from a third-party host; that stays blocked (the admin's browser contacts no one else) and the
 * page falls back to the system fonts.
 */
export const QUEUE_BOARD_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'"],
  },
};

/** Bull Board over the events queue, read-only (no retry, clean, remove or promote), behind `requireAdmin`. */
export function createQueueBoardRouter(queue: Queue, requireAdmin: RequestHandler): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Analytics queues' } },
  });
  const router = Router();
  router.use(
    QUEUE_BOARD_PATH,
    requireAdmin,
    helmet.contentSecurityPolicy(QUEUE_BOARD_CSP),
    (req, res, next) => {
      // Read-only twice over: the adapter refuses changes, and no method that could change anything passes.
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        next(new AppError('read-only', 'The queue dashboard is read-only', { status: 405 }));
        return;
      }
      res.setHeader('Cache-Control', 'private, no-store');
      next();
    },
    serverAdapter.getRouter() as RequestHandler,
  );
  return router;
}
