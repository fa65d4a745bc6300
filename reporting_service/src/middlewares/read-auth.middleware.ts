import type { RequestHandler } from 'express';
import { AppError, hashKey, keyMatchesHash } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import { presentedKey } from './admin-auth.middleware';

/** Who is reading: the admin, or the site whose read key was presented. */
export type Reader = { kind: 'admin' } | { kind: 'site'; siteId: string };

/**
 * Read endpoints take the site's read key or the admin key (Bearer or x-api-key): missing or unknown key
 * 401, the valid read key of another site 403. Sets `res.locals.reader`.
 */
export function requireReader(sites: SiteRepository, adminApiKey: string | undefined): RequestHandler {
  const adminKeyHash = adminApiKey === undefined ? undefined : hashKey(adminApiKey);
  return async (req, res, next) => {
    const key = presentedKey(req);
    if (key === undefined) {
      throw new AppError('missing-api-key', 'Send the site read key as Authorization: Bearer <read_key>', {
        status: 401,
      });
    }
    if (adminKeyHash !== undefined && keyMatchesHash(key, adminKeyHash)) {
      res.locals.reader = { kind: 'admin' } satisfies Reader;
      next();
      return;
    }
    const site = await sites.findByReadKeyHash(hashKey(key));
    if (!site) throw new AppError('invalid-api-key', 'The read key is not valid', { status: 401 });
    res.locals.reader = { kind: 'site', siteId: site.site_id } satisfies Reader;
    next();
  };
}

/** 403 unless the reader may read `siteId`. */
export function assertMayRead(reader: Reader, siteId: string): void {
  if (reader.kind === 'site' && reader.siteId !== siteId) {
    throw new AppError('forbidden', 'This read key belongs to another site', {
      status: 403,
      details: [{ field: 'site_id', message: 'is not the site of this read key' }],
    });
  }
}
