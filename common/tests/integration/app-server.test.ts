import express from 'express';
import supertest from 'supertest';
import { listenAppServer, type ListeningAppServer } from '@analytics/testkit';

describe('createAppServer', () => {
  let listening: ListeningAppServer | undefined;
  afterEach(async () => {
    await listening?.close();
    listening = undefined;
  });

  function buildApp() {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.json());
    app.post('/echo', (req, res) => {
      res
        .status(201)
        .set({ 'x-ip': req.ip ?? '', 'x-app-link': String(req.app === app) })
        .json({ body: req.body as unknown, header: req.get('x-probe') });
    });
    return app;
  }

  it('when a request arrives, then req and res already have the prototypes Express would set, and Express helpers work', async () => {
    const app = buildApp();
    listening = await listenAppServer(app);
    const born: boolean[] = [];
    // runs before Express's own listener, so it sees the objects as the server created them
    listening.server.prependListener('request', (req, res) =>
      born.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response),
    );

    const res = await supertest(listening.server)
      .post('/echo')
      .set('x-probe', 'p')
      .set('x-forwarded-for', '203.0.113.9')
      .send({ a: 1 });

    expect(born).toEqual([true, true]);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ body: { a: 1 }, header: 'p' });
    expect(res.headers['x-ip']).toBe('203.0.113.9');
    expect(res.headers['x-app-link']).toBe('true');
  });

  it('when the same app is also served by a plain server, then that server still works', async () => {
    const app = buildApp();
    listening = await listenAppServer(app);
    const plain = await supertest(app).post('/echo').set('x-probe', 'q').send({ b: 2 });
    expect(plain.status).toBe(201);
    expect(plain.body).toEqual({ body: { b: 2 }, header: 'q' });
    expect(plain.headers['x-app-link']).toBe('true');
  });
});
