import type { RequestHandler } from 'express';
import type mongoose from 'mongoose';
import { AppError, rejectOwnProtoKeys, validationError } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth';
import { getSiteStats } from '../queries/get-site-stats.query';
import type { SiteRepository } from '../repositories/site.repository';
import { resolveStatsWindow } from '../services/stats-window';
import { statsQuerySchema } from '../validations/stats.validation';

export function createStatsController(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  now: () => Date = () => new Date(),
): { getStats: RequestHandler } {
  return {
    async getStats(req, res) {
      rejectOwnProtoKeys([{ value: req.query, at: '' }]);
      const { value: query, error } = statsQuerySchema.validate({ ...req.query });
      if (error) throw validationError(error);
      assertMayRead(res.locals.reader as Reader, query.site_id);
      const site = await sites.findById(query.site_id);
      if (!site) {
        throw new AppError('site-not-found', `No site "${query.site_id}"`, {
          status: 404,
          details: [{ field: 'site_id', message: 'is not a registered site' }],
        });
      }
      const window = resolveStatsWindow(query, now());
      const stats = await getSiteStats(mongo, site.site_id, window.period, window.buckets);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ site_id: site.site_id, ...window.label, ...stats });
    },
  };
}
