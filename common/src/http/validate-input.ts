import type Joi from 'joi';
import { AppError, validationError } from '../errors';

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

/** Own `__proto__` keys survive JSON.parse but Joi drops them silently; unknown keys must fail instead. */
export function hasOwnProtoKey(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, '__proto__')
  );
}

/**
 * 400 naming each listed object (`at` is its path, '' for the body itself) that has an own `__proto__`
 * key: call it before Joi, which would drop the key without a word.
 */
export function rejectOwnProtoKeys(objects: { value: unknown; at: string }[]): void {
  const details = objects
    .filter((o) => hasOwnProtoKey(o.value))
    .map((o) => ({ field: o.at ? `${o.at}.__proto__` : '__proto__', message: 'is not allowed' }));
  if (details.length > 0) {
    throw new AppError('validation-failed', `Invalid ${details[0]!.field}`, { status: 400, details });
  }
}
