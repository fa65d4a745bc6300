import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth.middleware';
import type { StatsService } from '../services/stats.service';
import { statsQuerySchema } from '../validations/stats.validation';

export function createStatsController(stats: StatsService): { getStats: RequestHandler } {
  return {
    async getStats(req, res) {
      const query = validateRequestInput(statsQuerySchema, { ...req.query });
      assertMayRead(res.locals.reader as Reader, query.site_id);
      const answer = await stats.getStats(query);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(answer);
    },
  };
}
