import { Router, type RequestHandler } from 'express';
import type { createUserController } from '../controllers/user.controller';

/** Per-person data and its erasure: the admin key only (dashboard read keys never reach it). */
export function createUserRouter(
  controller: ReturnType<typeof createUserController>,
  requireAdmin: RequestHandler,
): Router {
  const router = Router();
  router.get('/users/:user_id/events', requireAdmin, controller.getUserEvents);
  router.delete('/users/:user_id', requireAdmin, controller.deleteUser);
  router.get('/user-erasures/:request_id', requireAdmin, controller.getUserErasure);
  return router;
}
