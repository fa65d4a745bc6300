import cors from 'cors';
import type { RequestHandler } from 'express';

/**
 * CORS for the read endpoints: a dashboard on one of `origins` may call them from a browser with its read
 * key (never with cookies). No origin is allowed unless an operator lists it (CORS_ORIGINS); the
 * dashboard reporting serves itself is same-origin and needs none.
 */
export function readCors(origins: readonly string[]): RequestHandler {
  return cors({
    origin: origins.length > 0 ? [...origins] : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type'],
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
    credentials: false,
    maxAge: 86_400,
  });
}
