import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toAppError } from '../errors';
import { errorMeta, logger } from '../logger';
import { getRequestId } from './request-context';

export interface ErrorBody {
  success: false;
  error: string;
  code: string;
  request_id: string;
  details: { field: string; message: string }[];
}

export function notFound(): RequestHandler {
  return (req, _res, next) => {
    next(new AppError('not-found', `No route for ${req.method} ${req.path}`, { status: 404 }));
  };
}

/**
 * The one error handler: the contract's error body for everything, `Retry-After` where it applies,
 * 5xx logged with the stack, never a stack sent to a client.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      const cause = appError.status === 500 ? error : (appError.cause ?? error);
      logger.error('request failed', { code: appError.code, status: appError.status, ...errorMeta(cause) });
    } else {
      logger.info('request rejected', { code: appError.code, status: appError.status });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (appError.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(appError.retryAfterSeconds));
    }
    const body: ErrorBody = {
      success: false,
      error: appError.message,
      code: appError.code,
      request_id: getRequestId(res),
      details: appError.details,
    };
    res.status(appError.status).json(body);
  };
}
