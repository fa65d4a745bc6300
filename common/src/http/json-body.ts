import { finished } from 'node:stream';
import bytes from 'bytes';
import express, { type Request, type RequestHandler } from 'express';
import createError from 'http-errors';
import { AppError } from '../errors';

/**
 * Parses a JSON body of at most `limit` (for example '32kb'): 415 for a content type outside `types`,
 * 400 for no body at all, 413 above the limit and 400 for malformed JSON (the last two raised by
 * body-parser, or by readPlainJsonBody in its image, and mapped in toAppError).
 */
export function jsonBody(limit: string, types: string[] = ['application/json']): RequestHandler[] {
  const [requireType, parseWithBodyParser] = bodyParserJsonBody(limit, types);
  const limitBytes = bytes.parse(limit);
  if (limitBytes === null) throw new TypeError(`invalid body limit ${limit}`);
  const plainTypes = plainContentTypes(types);
  const readBody: RequestHandler = (req, res, next) => {
    if (isPlainJsonRequest(req, plainTypes, limitBytes)) {
      readPlainJsonBody(req, limitBytes, next);
      return;
    }
    void requireType(req, res, (error?: unknown) => {
      if (error === undefined) void parseWithBodyParser(req, res, next);
      else next(error);
    });
  };
  return [readBody];
}

/**
 * jsonBody without its own reader: the type check, then body-parser, for every request. jsonBody's
 * fallback, and the reference its tests and micro-benchmark compare it with.
 */
export function bodyParserJsonBody(limit: string, types: string[]): [RequestHandler, RequestHandler] {
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

/*
 * The common case without body-parser: body-parser's type matching (type-is, content-type), charset
 * decoding (iconv-lite) and reading (raw-body) cost a few microseconds per request, most of it for
 * generality a tracker's or server library's request does not need. A request of exactly that shape
 * is read here with the same rules and the same errors (http-errors, with body-parser's types, statuses
 * and messages), so toAppError cannot tell the two apart; anything else goes to body-parser unchanged.
 */

/** The content-type headers (lower case) read here: the JSON types of `types`, optionally with UTF-8. */
function plainContentTypes(types: string[]): ReadonlySet<string> {
  const plain = types.filter((type) => type === 'application/json' || type === 'text/plain');
  return new Set(plain.flatMap((type) => [type, `${type}; charset=utf-8`, `${type};charset=utf-8`]));
}

const DECIMAL = /^[0-9]+$/;

/**
 * A plain content type, no content or transfer encoding, a content length within the limit (an empty
 * body is left to body-parser), and a body nobody has read yet (on-finished's test, which body-parser
 * applies first).
 */
function isPlainJsonRequest(req: Request, plainTypes: ReadonlySet<string>, limit: number): boolean {
  const { headers } = req;
  const contentType = headers['content-type'];
  if (contentType === undefined || !plainTypes.has(contentType.toLowerCase())) return false;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === undefined || !DECIMAL.test(length)) return false;
  const declared = Number(length);
  if (declared === 0 || declared > limit) return false;
  const upgrade = (req as { upgrade?: boolean }).upgrade === true;
  const unread = !upgrade && req.socket?.readable === true && !(req.complete && !req.readable);
  return unread && req.readableEncoding === null;
}

/** Reads and parses the body as raw-body and body-parser's strict JSON parser would, with their errors. */
function readPlainJsonBody(req: Request, limit: number, next: (error?: unknown) => void): void {
  const expected = Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let received = 0;

  const cleanup = (): void => {
    req.removeListener('aborted', onAborted);
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onError);
    req.removeListener('close', cleanup);
  };
  // As body-parser: stop reading, let the rest of the request drain, then answer.
  const fail = (error: Error): void => {
    cleanup();
    finished(req, () => next(error));
    req.resume();
  };
  function onAborted(): void {
    const details = { code: 'ECONNABORTED', expected, length: expected, received, type: 'request.aborted' };
    fail(createError(400, 'request aborted', details));
  }
  function onData(chunk: Buffer): void {
    received += chunk.length;
    if (received > limit) {
      fail(createError(413, 'request entity too large', { limit, received, type: 'entity.too.large' }));
    } else {
      chunks.push(chunk);
    }
  }
  function onError(error: Error): void {
    fail(createError(400, error));
  }
  function onEnd(): void {
    if (received !== expected) {
      const details = { expected, length: expected, received, type: 'request.size.invalid' };
      fail(createError(400, 'request size did not match content length', details));
      return;
    }
    cleanup();
    let parsed: unknown;
    try {
      parsed = parseStrictJson(
        decodeUtf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)),
      );
    } catch (error) {
      next(error);
      return;
    }
    req.body = parsed;
    next();
  }

  req.on('aborted', onAborted);
  req.on('close', cleanup);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

/** As iconv-lite decodes UTF-8 for body-parser: invalid sequences become U+FFFD, one leading BOM goes. */
function decodeUtf8(body: Buffer): string {
  const text = body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** JSON's whitespace only, as body-parser's check. */
const FIRST_NON_WHITESPACE = /^[ \t\n\r]*([^ \t\n\r]|$)/;

/** body-parser's `strict: true`: an empty body is `{}`, anything else must be an object or an array. */
function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = FIRST_NON_WHITESPACE.exec(text)?.[1] ?? '';
  if (first !== '{' && first !== '[') throw parseFailed(strictViolation(text, first), text);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw parseFailed(error as Error, text);
  }
}

/** body-parser's message: JSON.parse's own for the text masked from `first` on, the mask then undone. */
function strictViolation(text: string, first: string): Error {
  const at = first === '' ? -1 : text.indexOf(first);
  const masked = at === -1 ? '' : text.slice(0, at) + '#'.repeat(text.length - at);
  try {
    JSON.parse(masked);
  } catch (error) {
    const syntaxError = error as Error;
    syntaxError.message = syntaxError.message.replace(/#+/g, (mask) => text.substring(at, at + mask.length));
    return syntaxError;
  }
  return new SyntaxError('strict violation');
}

function parseFailed(error: Error, body: string): Error {
  return createError(400, error, { body, type: 'entity.parse.failed' });
}
