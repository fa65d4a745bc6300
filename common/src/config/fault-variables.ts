import Joi from 'joi';
import { logger } from '../logger';

/**
 * A test-only fault-injection variable: one of `modes`, off when unset or empty, and refused when
 * NODE_ENV=production so a stray setting can never break a real deployment.
 */
export function faultModeVariable(name: string, modes: readonly string[]): Joi.StringSchema {
  return Joi.string()
    .empty('')
    .valid(...modes)
    .when('NODE_ENV', {
      is: 'production',
      then: Joi.forbidden().messages({ 'any.unknown': `${name} is refused when NODE_ENV=production` }),
    });
}

/** A share of requests or jobs a fault applies to, from 0 to 1. */
export function faultShareVariable(defaultShare: number): Joi.NumberSchema {
  return Joi.number().min(0).max(1).default(defaultShare);
}

/** Says it loudly at start, so nobody mistakes an injected failure for a real one. */
export function announceFault(variable: string, mode: string, settings: Record<string, unknown> = {}): void {
  logger.warn(`FAULT INJECTION IS ON (${variable}=${mode}): this service will fail on purpose`, {
    fault: mode,
    ...settings,
  });
}

/**
 * PROCESS_FAULT (tests only), read by every service: `POST /fault/process` then makes the process fail as
 * a bug would, inside that request (so with its request id):
 * - unhandled-rejection: a promise rejects and nothing handles it;
 * - uncaught-exception: a callback throws and nothing catches it.
 */
export const PROCESS_FAULTS = ['unhandled-rejection', 'uncaught-exception'] as const;
export type ProcessFault = (typeof PROCESS_FAULTS)[number];
