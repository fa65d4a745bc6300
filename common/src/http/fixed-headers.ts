import type { RequestHandler } from 'express';

/**
 * A middleware whose only effect is to set the same response headers on every request (helmet's are:
 * no nonce, nothing read from the request), replayed from one run of it at startup: one loop of
 * `setHeader` instead of a chain of small middlewares per request (helmet runs 13, each with its own
 * `next`). Throws at startup if the middleware does anything else (ends the response, reads the request,
 * calls `next` with an error), so a future version that becomes request-dependent cannot be frozen by
 * mistake.
 */
export function fixedHeaders(middleware: RequestHandler): RequestHandler {
  const set = new Map<string, string | number | readonly string[]>();
  const removed = new Set<string>();
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.set(name, value);
      removed.delete(name.toLowerCase());
      return res;
    },
    removeHeader(name: string) {
      set.delete(name);
      removed.add(name.toLowerCase());
    },
  };
  const req = new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`fixedHeaders: the middleware reads the request (${String(property)})`);
      },
    },
  );
  let nextCalled = false;
  middleware(req as never, res as never, (error?: unknown) => {
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    nextCalled = true;
  });
  if (!nextCalled) throw new Error('fixedHeaders: the middleware did not call next() synchronously');
  const headers = [...set];
  const removals = [...removed];
  return (_req, response, next) => {
    for (const name of removals) response.removeHeader(name);
    for (const [name, value] of headers) response.setHeader(name, value);
    next();
  };
}
