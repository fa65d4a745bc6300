import { Router, type ErrorRequestHandler } from 'express';
import express from 'express';
import { AppError, jsonBody } from '@analytics/common';
import type { createPlausibleController } from '../controllers/plausible.controller';
import type { createSegmentController } from '../controllers/segment.controller';
import type { createUmamiController } from '../controllers/umami.controller';
import { SEGMENT_REQUEST_MAX_BYTES, type SegmentType } from '../mappings/segment.mapping';
import { BODY_LIMITS } from './event.route';

/** Segment's single-message endpoints (`/v1/batch` carries the type in each message). */
export const SEGMENT_SINGLE_TYPES: readonly SegmentType[] = [
  'track',
  'page',
  'identify',
  'screen',
  'group',
  'alias',
];

export const SEGMENT_PATHS = ['/v1/batch', ...SEGMENT_SINGLE_TYPES.map((type) => `/v1/${type}`)];
export const KEYLESS_PATHS = ['/api/event', '/api/send'];

/**
 * Segment's libraries send JSON whatever the content type says; a body that is not JSON or is over
 * 500 KB makes the whole request unusable: 400 (Segment's own answer), never 413 or 415.
 */
const segmentBody = express.json({ type: () => true, limit: SEGMENT_REQUEST_MAX_BYTES, strict: true });
const segmentBodyErrors: ErrorRequestHandler = (error: unknown, _req, _res, next) => {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') {
    next(new AppError('request-too-large', 'The request is larger than 500 KB', { status: 400 }));
  } else if ((typeof type === 'string' && type.startsWith('entity.')) || type === 'charset.unsupported') {
    next(new AppError('invalid-json', 'The body is not JSON', { status: 400, cause: error }));
  } else {
    next(error);
  }
};

/** Plausible's script sends `text/plain`; Umami's, JSON. One event: the limit of POST /event. */
const KEYLESS_BODY_TYPES = ['application/json', 'text/plain'];

export function createCompatibilityRouter(controllers: {
  segment: ReturnType<typeof createSegmentController>;
  plausible: ReturnType<typeof createPlausibleController>;
  umami: ReturnType<typeof createUmamiController>;
}): Router {
  const router = Router();
  router.post('/v1/batch', segmentBody, segmentBodyErrors, controllers.segment.postMessages());
  for (const type of SEGMENT_SINGLE_TYPES) {
    router.post(`/v1/${type}`, segmentBody, segmentBodyErrors, controllers.segment.postMessages(type));
  }
  router.post(
    '/api/event',
    ...jsonBody(BODY_LIMITS.event, KEYLESS_BODY_TYPES),
    controllers.plausible.postEvent,
  );
  router.post('/api/send', ...jsonBody(BODY_LIMITS.event, KEYLESS_BODY_TYPES), controllers.umami.postSend);
  return router;
}
