import type { RequestHandler } from 'express';
import { counter, METRIC_NAMES, type DropReason, type ServiceMetrics } from '@analytics/common';

/** Which statuses mean the events of a request were refused, and why (bounded labels). */
const DROPPED_BY_STATUS: Record<number, DropReason> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'unauthorized',
  413: 'invalid',
  415: 'invalid',
  429: 'rate_limited',
};

/**
 * Counts the events of POST /event and /events when the answer is known: accepted on 202 (a batch counts
 * its events), dropped by reason otherwise (a refused request counts its events when its body could be
 * read, else 1). Off the request's path: it only listens for the end of the answer. The endpoints of other
 * products' clients say how many events they accepted in `res.locals.acceptedEvents` (Segment answers
 * 200, and some of their messages are no events); a Segment batch refused whole counts its messages.
 */
export function eventMetrics(metrics: ServiceMetrics): RequestHandler {
  const accepted = counter(metrics.registry, METRIC_NAMES.eventsAccepted, 'Events answered 202', [
    'endpoint',
  ]);
  const dropped = counter(metrics.registry, METRIC_NAMES.eventsDropped, 'Events refused, by reason', [
    'reason',
  ]);
  return (req, res, next) => {
    res.once('finish', () => {
      const body = req.body as { events?: unknown; batch?: unknown } | undefined;
      const events = Array.isArray(body?.events)
        ? body.events.length
        : Array.isArray(body?.batch)
          ? body.batch.length
          : 1;
      const counted = res.locals.acceptedEvents as number | undefined;
      const endpoint = req.baseUrl || req.path;
      if (counted !== undefined) {
        if (counted > 0) accepted.inc({ endpoint }, counted);
      } else if (res.statusCode === 202) accepted.inc({ endpoint }, events);
      else {
        const reason = DROPPED_BY_STATUS[res.statusCode];
        if (reason) dropped.inc({ reason }, events);
      }
    });
    next();
  };
}
