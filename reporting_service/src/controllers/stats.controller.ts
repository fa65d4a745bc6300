import type { RequestHandler } from 'express';
import type mongoose from 'mongoose';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth';
import { getSiteStats } from '../queries/get-site-stats.query';
import type { SiteRepository } from '../repositories/site.repository';
import { siteNotFoundError } from '../services/site.service';
import { resolveStatsWindow } from '../services/stats-window';
import { statsQuerySchema } from '../validations/stats.validation';

export function createStatsController(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  now: () => Date = () => new Date(),
): { getStats: RequestHandler } {
  return {
    async getStats(req, res) {
      const query = validateRequestInput(statsQuerySchema, { ...req.query });
      assertMayRead(res.locals.reader as Reader, query.site_id);
      const site = await sites.findById(query.site_id);
      if (!site) throw siteNotFoundError(query.site_id);
      const window = resolveStatsWindow(query, now());
      const stats = await getSiteStats(mongo, site.site_id, window.period, window.buckets);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ site_id: site.site_id, ...window.label, ...stats });
    },
  };
}
