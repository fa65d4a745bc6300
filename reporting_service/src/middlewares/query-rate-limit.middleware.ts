import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AppError, hashKey } from '@analytics/common';
import { presentedKey } from './admin-auth.middleware';

/**
 * Queries per key and hour (contract: 600). Counted per reporting process: with several instances each
 * allows as many (docs/configuration.md says so). Keys are counted by their hash, never in clear.
 */
export function queryRateLimit(perHour: number): RequestHandler {
  return rateLimit({
    windowMs: 3_600_000,
    limit: perHour,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => hashKey(presentedKey(req) ?? ''),
    handler: (_req, _res, next) => {
      next(
        new AppError(
          'rate-limited',
          `At most ${perHour} queries an hour per key; wait for the Retry-After seconds`,
          {
            status: 429,
          },
        ),
      );
    },
  });
}
