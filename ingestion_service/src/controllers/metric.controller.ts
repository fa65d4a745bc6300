import type { Request, RequestHandler, Response } from 'express';
import { getRequestId } from '@analytics/common';
import type { MetricIntake } from '../services/metric-intake.service';

function intakeRequest(req: Request, res: Response) {
  return {
    body: req.body as unknown,
    headerWriteKey: req.get('x-api-key'),
    clientIp: req.ip,
    userAgent: req.get('user-agent'),
    fromBrowser: req.get('origin') !== undefined,
    requestId: getRequestId(res),
    receivedAt: new Date(),
  };
}

export function createMetricController(intake: MetricIntake): { postMetrics: RequestHandler } {
  return {
    async postMetrics(req, res) {
      const accepted = await intake.accept(intakeRequest(req, res));
      if (accepted.single) {
        res.status(202).json({ success: true, metric_id: accepted.metric_id });
      } else {
        res
          .status(202)
          .json({ success: true, accepted: accepted.metric_ids.length, metric_ids: accepted.metric_ids });
      }
    },
  };
}
