import type { RequestHandler } from 'express';
import { validateRequestInput } from '@analytics/common';
import { assertMayRead, type Reader } from '../middlewares/read-auth.middleware';
import type { MetricQueryService } from '../services/metric-query.service';
import {
  metricQuerySchema,
  toMetricQuery,
  type RawMetricQuery,
} from '../validations/metric-query.validation';

export function createMetricQueryController(metrics: MetricQueryService): { getMetricQuery: RequestHandler } {
  return {
    async getMetricQuery(req, res) {
      const raw = validateRequestInput<RawMetricQuery>(metricQuerySchema, { ...req.query });
      assertMayRead(res.locals.reader as Reader, raw.site_id);
      const answer = await metrics.query(toMetricQuery(raw));
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(answer);
    },
  };
}
