import type { RequestHandler } from 'express';
import { AppError, announceFault, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@analytics/common';
import type { IngestionConfig } from './config';

/**
 * INGESTION_FAULT (tests only): fails a share of event requests on purpose. Undefined when unset, so the
 * app mounts nothing in the request path.
 */
export function injectFaults(fault: IngestionConfig['fault']): RequestHandler | undefined {
  const { mode, rate } = fault;
  if (mode === undefined) return undefined;
  announceFault('INGESTION_FAULT', mode, { rate });
  return (_req, _res, next) => {
    if (Math.random() >= rate) {
      next();
    } else if (mode === 'unavailable') {
      next(
        new AppError('queue-unavailable', 'The event queue is unavailable (injected by INGESTION_FAULT)', {
          status: 503,
          retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
        }),
      );
    } else {
      next(new Error('injected failure (INGESTION_FAULT=error)'));
    }
  };
}
