import type { RequestHandler } from 'express';
import { getRequestId } from '@analytics/common';
import type { EventIntake, IntakeRequest } from '../services/event-intake.service';

function intakeRequest(
  req: Parameters<RequestHandler>[0],
  res: Parameters<RequestHandler>[1],
): IntakeRequest {
  return {
    body: req.body,
    headerWriteKey: req.get('x-api-key'),
    requestId: getRequestId(res),
    receivedAt: new Date(),
  };
}

export function createEventController(intake: EventIntake): {
  postEvent: RequestHandler;
  postEvents: RequestHandler;
} {
  return {
    async postEvent(req, res) {
      const { event_id } = await intake.acceptEvent(intakeRequest(req, res));
      res.status(202).json({ success: true, event_id });
    },
    async postEvents(req, res) {
      const { accepted, event_ids } = await intake.acceptBatch(intakeRequest(req, res));
      res.status(202).json({ success: true, accepted, event_ids });
    },
  };
}
