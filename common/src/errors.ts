import Joi from 'joi';

export interface ErrorDetail {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  status: number;
  details?: ErrorDetail[];
  cause?: unknown;
  /** Sent as `Retry-After` (seconds) with 429 and 503. */
  retryAfterSeconds?: number;
}

/** The one error type every layer throws; the HTTP error handler turns it into the contract's body. */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetail[];
  readonly retryAfterSeconds?: number;

  constructor(code: string, message: string, options: AppErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Seconds a client should wait before resending after Redis or MongoDB was unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export function badRequest(message: string, details: ErrorDetail[] = []): AppError {
  return new AppError('invalid-request', message, { status: 400, details });
}

export function redisUnavailable(cause: unknown): AppError {
  return new AppError('queue-unavailable', 'The event queue is unavailable; resend with the same event_id', {
    status: 503,
    cause,
    retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
  });
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('database-unavailable', 'The database is unavailable; try again shortly', {
    status: 503,
    cause,
    retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
  });
}

/** An error body lists at most this many problems (a batch of 500 bad events would list thousands). */
export const MAX_ERROR_DETAILS = 100;

/** Turns Joi's error into the contract's details: one entry per problem, `events[3].path` style. */
export function joiDetails(error: Joi.ValidationError, pathPrefix = ''): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const detail of error.details) {
    const field = formatPath([...detail.path, ...objectLevelField(detail.context)], pathPrefix);
    // One problem per field: a rule that fails two ways (format, then calendar) says it once.
    if (seen.has(field)) continue;
    seen.add(field);
    details.push({ field, message: detail.message });
    if (details.length === MAX_ERROR_DETAILS) break;
  }
  return details;
}

/**
 * An error about a whole object ("from and to go together") names the key at fault: a custom rule's
 * `field`, else the first missing peer, else the first conflicting one.
 */
function objectLevelField(context: Joi.Context | undefined): string[] {
  const named = context?.field ?? context?.missing?.[0] ?? context?.present?.[0];
  return typeof named === 'string' ? [named] : [];
}

function formatPath(path: (string | number)[], prefix: string): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(body)' : out;
}

export function validationError(error: Joi.ValidationError, pathPrefix = ''): AppError {
  return invalidFields(joiDetails(error, pathPrefix));
}

/** The 400 for invalid input: `details` name each field at fault. */
export function invalidFields(details: ErrorDetail[]): AppError {
  const fields = [...new Set(details.map((d) => d.field))];
  return new AppError('validation-failed', `Invalid ${fields.slice(0, 3).join(', ')}`, {
    status: 400,
    details: details.slice(0, MAX_ERROR_DETAILS),
  });
}

interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  limit?: unknown;
}

/** Driver errors that mean MongoDB is unreachable or too slow, not that the request was wrong. */
const MONGO_UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoOperationTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** MongoDB stopped an operation at its `maxTimeMS`: the server is too slow, not the request wrong. */
function isMaxTimeExpired(error: Error): boolean {
  const { code, codeName } = error as Error & { code?: unknown; codeName?: unknown };
  return code === 50 || codeName === 'MaxTimeMSExpired';
}

/** Maps anything thrown into an AppError; anything unrecognised is a 500 (a bug, whatever the input). */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (Joi.isError(error)) return validationError(error);
  if (error instanceof Error && (MONGO_UNAVAILABLE_ERRORS.has(error.name) || isMaxTimeExpired(error)))
    return databaseUnavailable(error);

  const parserError = (typeof error === 'object' && error !== null ? error : {}) as BodyParserError;
  switch (parserError.type) {
    case 'entity.parse.failed':
      return new AppError('malformed-json', 'The body is not valid JSON', { status: 400, cause: error });
    case 'entity.too.large':
      return new AppError(
        'payload-too-large',
        `The body is larger than the limit of ${String(parserError.limit)} bytes`,
        { status: 413, cause: error },
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported-content-type', 'Send the body as UTF-8 JSON', {
        status: 415,
        cause: error,
      });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('invalid-request', 'The request body could not be read', {
        status: 400,
        cause: error,
      });
    default:
      break;
  }
  if (
    typeof parserError.status === 'number' &&
    parserError.status >= 400 &&
    parserError.status < 500 &&
    parserError.expose === true
  ) {
    return new AppError('invalid-request', 'The request could not be read', {
      status: parserError.status,
      cause: error,
    });
  }
  return new AppError('internal-error', 'Internal error', { status: 500, cause: error });
}
