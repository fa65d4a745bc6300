import type { Request, RequestHandler } from 'express';
import { AppError, hashKey, keyMatchesHash } from '@analytics/common';
import { presentedKey } from './admin-auth.middleware';

/** The password of `Authorization: Basic base64(user:password)`; any user name. */
export function basicPassword(req: Request): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * The queue dashboard: the admin key as `Bearer` (or x-api-key), or as the HTTP Basic password so that a
 * browser can open the page (a 401 asks it for credentials with `WWW-Authenticate: Basic`).
 */
export function requireAdminOrBasic(adminApiKey: string | undefined): RequestHandler {
  if (adminApiKey === undefined) return (_req, _res, next) => next();
  const adminKeyHash = hashKey(adminApiKey);
  return (req, res, next) => {
    const key = basicPassword(req) ?? presentedKey(req);
    if (key !== undefined && keyMatchesHash(key, adminKeyHash)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"');
    next(
      key === undefined
        ? new AppError('missing-api-key', 'Send the admin key as Bearer or as the Basic password', {
            status: 401,
          })
        : new AppError('invalid-api-key', 'The admin key is not valid', { status: 401 }),
    );
  };
}
