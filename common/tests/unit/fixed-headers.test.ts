import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { fixedHeaders } from '@analytics/common';

/** The headers a GET / answers with, through an app that runs only `middleware`. */
async function headersThrough(middleware: RequestHandler): Promise<http.IncomingHttpHeaders> {
  const app = express();
  app.disable('x-powered-by');
  app.use(middleware);
  app.get('/', (_req, res) => void res.status(204).end());
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const headers: http.IncomingHttpHeaders = {};
    res.headers.forEach((value, name) => {
      if (name !== 'date' && name !== 'connection' && name !== 'keep-alive') headers[name] = value;
    });
    return headers;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('fixedHeaders', () => {
  it("when helmet is replayed, then every answer has exactly helmet's own headers", async () => {
    const options = { crossOriginResourcePolicy: { policy: 'cross-origin' as const } };
    const replayed = await headersThrough(fixedHeaders(helmet(options)));
    expect(replayed).toEqual(await headersThrough(helmet(options)));
    expect(replayed['cross-origin-resource-policy']).toBe('cross-origin');
    expect(replayed['x-content-type-options']).toBe('nosniff');
    expect(Object.keys(replayed).length).toBeGreaterThanOrEqual(12);
  });

  it('when a middleware reads the request, then it is refused at startup', () => {
    expect(() => fixedHeaders((req, res, next) => (res.setHeader('x-path', req.path), next()))).toThrow(
      /reads the request/,
    );
  });

  it('when a middleware does not call next synchronously, then it is refused at startup', () => {
    expect(() => fixedHeaders((_req, res) => void res.setHeader('x-a', '1'))).toThrow(/did not call next/);
  });
});
