import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express, { type Express, type Response } from 'express';
import { sendJson } from '@analytics/common';

/** The raw bytes of the answer to one request, the `Date` line left out (it is the clock's). */
async function rawAnswer(app: Express, method = 'POST'): Promise<string> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    socket.end(`${method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('latin1')
      .replace(/\r\nDate: [^\r]*/, '');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** An app like ingestion's (no ETags, no x-powered-by) answering with `answer`, after a header of its own. */
function appAnswering(answer: (res: Response) => void, configure?: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  configure?.(app);
  app.all('/', (_req, res) => {
    res.setHeader('RateLimit-Policy', '600;w=60');
    answer(res);
  });
  return app;
}

const BODIES = [
  { success: true, event_id: '0b7c1b0e-6a8e-4d5c-9d1f-2f3e4a5b6c7d' },
  { success: true, accepted: 2, event_ids: ['a', 'é€😀'] },
  { text: '<script>&\u2028' },
];

describe('sendJson', () => {
  it.each(BODIES)('when it answers %j, then the bytes are those of res.status().json()', async (body) => {
    const ours = await rawAnswer(appAnswering((res) => sendJson(res, 202, body)));
    expect(ours).toBe(await rawAnswer(appAnswering((res) => void res.status(202).json(body))));
    expect(ours).toContain('\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ');
  });

  it.each([
    ['ETags on', (app: Express) => void app.set('etag', true)],
    ['JSON spaces', (app: Express) => void app.set('json spaces', 2)],
    ['JSON escape', (app: Express) => void app.set('json escape', true)],
  ])('when the app has %s, then the bytes are still those of res.json', async (_name, configure) => {
    const body = BODIES[2];
    const ours = await rawAnswer(appAnswering((res) => sendJson(res, 200, body), configure));
    expect(ours).toBe(await rawAnswer(appAnswering((res) => void res.status(200).json(body), configure)));
  });

  it('when a content type is already set, or the status has no body, then the bytes are those of res.json', async () => {
    const typed = (res: Response): Response => res.type('application/vnd.api+json');
    const body = BODIES[0];
    expect(await rawAnswer(appAnswering((res) => sendJson(typed(res), 202, body)))).toBe(
      await rawAnswer(appAnswering((res) => void typed(res).status(202).json(body))),
    );
    expect(await rawAnswer(appAnswering((res) => sendJson(res, 204, body)))).toBe(
      await rawAnswer(appAnswering((res) => void res.status(204).json(body))),
    );
    expect(
      await rawAnswer(
        appAnswering((res) => sendJson(res, 200, body)),
        'HEAD',
      ),
    ).toBe(
      await rawAnswer(
        appAnswering((res) => void res.status(200).json(body)),
        'HEAD',
      ),
    );
  });
});
