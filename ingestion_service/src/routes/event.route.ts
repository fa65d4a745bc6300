import { Router } from 'express';
import { jsonBody } from '@analytics/common';
import type { createEventController } from '../controllers/event.controller';

/** `text/plain` holding JSON too, because `navigator.sendBeacon` cannot send another type. */
const EVENT_BODY_TYPES = ['application/json', 'text/plain'];

/** Body limits of the contract: one event 32 KiB, a batch 1 MiB. */
export const BODY_LIMITS = Object.freeze({ event: '32kb', events: '1mb' });

export function createEventRouter(controller: ReturnType<typeof createEventController>): Router {
  const router = Router();
  router.post('/event', ...jsonBody(BODY_LIMITS.event, EVENT_BODY_TYPES), controller.postEvent);
  router.post('/events', ...jsonBody(BODY_LIMITS.events, EVENT_BODY_TYPES), controller.postEvents);
  return router;
}
