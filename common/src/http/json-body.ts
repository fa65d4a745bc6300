import express, { type RequestHandler } from 'express';
import { AppError } from '../errors';

/**
 * Parses a JSON body of at most `limit` (for example '32kb'): 415 for a content type outside `types`,
 * 400 for no body at all, 413 above the limit and 400 for malformed JSON (the last two raised by
 * body-parser and mapped in toAppError).
 */
export function jsonBody(limit: string, types: string[] = ['application/json']): RequestHandler[] {
  const requireType: RequestHandler = (req, _res, next) => {
    const matched = req.is(types);
    // null: the request has no body at all; false: a body of another type.
    if (matched === null || (!matched && req.headers['content-length'] === '0')) {
      next(new AppError('invalid-request', 'The request has no body; send a JSON object', { status: 400 }));
    } else if (matched === false) {
      next(
        new AppError('unsupported-content-type', `Send the body as ${types.join(' or ')}`, {
          status: 415,
        }),
      );
    } else {
      next();
    }
  };
  return [requireType, express.json({ type: types, limit, strict: true })];
}
