import type Joi from 'joi';
import { validationError } from '../errors';
import { rejectOwnProtoKeys } from '../events/event-fields';

/**
 * Validates with a schema compiled once, without per-call options, so Joi uses the preferences cached on
 * the schema. Failing fields become a 400 naming each of them.
 */
export function validateWith<T>(schema: Joi.Schema<T>, input: unknown): T {
  const { value, error } = schema.validate(input);
  if (error) throw validationError(error);
  return value;
}

/** validateWith for a body, query or path object, refusing an own `__proto__` key first (Joi would drop it). */
export function validateRequestInput<T>(schema: Joi.Schema<T>, input: unknown): T {
  rejectOwnProtoKeys([{ value: input, at: '' }]);
  return validateWith(schema, input);
}
