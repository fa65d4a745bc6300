import express, { type Express } from 'express';
import { announceFault, type ProcessFault } from '../config/fault-variables';
import { requestContext } from './request-context';

/** Where PROCESS_FAULT is triggered; the route exists only while the fault is configured. */
export const PROCESS_FAULT_PATH = '/fault/process';

/** The error a triggered PROCESS_FAULT leaves unhandled, so a log line can be told from a real bug. */
export class InjectedProcessFault extends Error {
  constructor(mode: ProcessFault) {
    super(`injected by PROCESS_FAULT=${mode}`);
    this.name = 'InjectedProcessFault';
  }
}

/**
 * PROCESS_FAULT (tests only): the service's app behind one more route, `POST /fault/process`, which
 * answers 202 and then leaves an error unhandled inside the request's context (a rejected promise or a
 * thrown exception, as configured). Only called when the fault is set, so a normal service has no such
 * route; the configuration refuses the variable when NODE_ENV=production.
 */
export function withProcessFaultRoute(app: Express, mode: ProcessFault): Express {
  announceFault('PROCESS_FAULT', mode, { path: PROCESS_FAULT_PATH });
  const outer = express();
  outer.disable('x-powered-by');
  outer.post(PROCESS_FAULT_PATH, requestContext(), (_req, res) => {
    res.status(202).json({ fault: mode });
    setImmediate(() => {
      const error = new InjectedProcessFault(mode);
      if (mode === 'uncaught-exception') throw error;
      void Promise.reject(error);
    });
  });
  outer.use(app);
  return outer;
}
