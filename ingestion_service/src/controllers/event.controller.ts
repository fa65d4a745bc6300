import type { Request, RequestHandler, Response } from 'express';
import { getRequestId, sendJson } from '@analytics/common';
import type { EventIntake, IntakeRequest } from '../services/event-intake.service';
import type { CommitReceipt } from '../services/group-commit.service';

/**
 * A browser's own request carries an `Origin` (browsers send it with every POST from a page, beacons
 * included); curl, server libraries and Postman send none by default. Neither the content type (Postman
 * and curl send `text/plain` as readily as a beacon) nor `Sec-Fetch-Mode` (Node's own `fetch` sends it)
 * tells a browser apart.
 */
function isBrowserRequest(req: Request): boolean {
  return req.get('origin') !== undefined;
}

export function intakeRequest(req: Request, res: Response): IntakeRequest {
  return {
    body: req.body,
    headerWriteKey: req.get('x-api-key'),
    clientIp: req.ip,
    userAgent: req.get('user-agent'),
    fromBrowser: isBrowserRequest(req),
    requestId: getRequestId(res),
    receivedAt: new Date(),
  };
}

/** The per-address limit's standard headers (IETF draft-7), as express-rate-limit wrote them before. */
function setRateLimitHeaders(res: Response, { ip }: CommitReceipt): void {
  if (!ip) return;
  const resetSeconds = Math.ceil(ip.resetMs / 1000);
  res.setHeader('RateLimit-Policy', `${ip.limit};w=60`);
  res.setHeader(
    'RateLimit',
    `limit=${ip.limit}, remaining=${Math.max(0, ip.limit - ip.used)}, reset=${resetSeconds}`,
  );
}

export function createEventController(intake: EventIntake): {
  postEvent: RequestHandler;
  postEvents: RequestHandler;
} {
  return {
    async postEvent(req, res) {
      const { event_id, receipt } = await intake.acceptEvent(intakeRequest(req, res));
      setRateLimitHeaders(res, receipt);
      sendJson(res, 202, { success: true, event_id });
    },
    async postEvents(req, res) {
      const { accepted, event_ids, receipt } = await intake.acceptBatch(intakeRequest(req, res));
      setRateLimitHeaders(res, receipt);
      sendJson(res, 202, { success: true, accepted, event_ids });
    },
  };
}
