import type { Request, RequestHandler } from 'express';
import { AppError, hashKey, keyMatchesHash } from '@analytics/common';

/** `Authorization: Bearer <key>`, or `x-api-key: <key>`. */
export function presentedKey(req: Request): string | undefined {
  const authorization = req.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return req.get('x-api-key') ?? undefined;
}

/**
 * Site administration needs ADMIN_API_KEY. Without one configured (allowed outside production only)
 * administration is open, and the service says so loudly at start.
 */
export function requireAdmin(adminApiKey: string | undefined): RequestHandler {
  if (adminApiKey === undefined) return (_req, _res, next) => next();
  const adminKeyHash = hashKey(adminApiKey);
  return (req, _res, next) => {
    const key = presentedKey(req);
    if (key === undefined) {
      next(
        new AppError('missing-api-key', 'Send the admin key as Authorization: Bearer <ADMIN_API_KEY>', {
          status: 401,
        }),
      );
    } else if (!keyMatchesHash(key, adminKeyHash)) {
      next(new AppError('invalid-api-key', 'The admin key is not valid', { status: 401 }));
    } else {
      next();
    }
  };
}
