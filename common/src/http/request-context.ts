import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithContext } from '../context';
import { logger } from '../logger';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/**
 * Gives every request an id (the client's `x-request-id` when it is sane, else a new UUID), returns it
 * in the response header, runs the rest of the request inside the log context, and writes one access
 * log line when the response is finished.
 */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const offered = req.get('x-request-id');
    const requestId = offered && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    runWithContext({ requestId }, () => {
      res.on('finish', () => {
        const level = res.statusCode >= 500 ? 'error' : 'http';
        // winston formats a line before its transport drops it for its level: skip the work up front.
        if (!logger.isLevelEnabled(level)) return;
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        // The path only: query strings may carry keys or personal data.
        logger.log(level, 'request completed', {
          method: req.method,
          route: req.path,
          status: res.statusCode,
          durationMs: Math.round(durationMs * 100) / 100,
        });
      });
      next();
    });
  };
}

export function getRequestId(res: { locals: Record<string, unknown> }): string {
  const id = res.locals.requestId;
  return typeof id === 'string' ? id : 'unknown';
}
