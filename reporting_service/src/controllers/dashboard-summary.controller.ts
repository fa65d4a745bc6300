import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth.middleware';
import type { DashboardSummaryService } from '../services/dashboard-summary.service';
import { dashboardQuerySchema } from '../validations/dashboard.validation';

export function createDashboardSummaryController(summaries: DashboardSummaryService): {
  get: RequestHandler;
} {
  return {
    async get(req, res) {
      const { site_id } = validateRequestInput(dashboardQuerySchema, { ...req.query });
      assertMayRead(res.locals.reader as Reader, site_id);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await summaries.summarise(site_id));
    },
  };
}
