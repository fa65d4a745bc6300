import supertest from 'supertest';
import { createHealthApp, markNotReady, type HealthChecks } from '@analytics/common';
import { listenAppServer, type ListeningAppServer } from '@analytics/testkit';

const ok = () => Promise.resolve();
const failing = () => Promise.reject(new Error('connection refused'));
const hanging = () => new Promise<void>(() => undefined);

const servers: ListeningAppServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function healthApp(checks: HealthChecks) {
  const listening = await listenAppServer(createHealthApp(checks, async () => ({ queue: { waiting: 3 } })));
  servers.push(listening);
  return supertest(listening.server);
}

describe('GET /health, /health/live and /health/ready', () => {
  it('when every check passes, then all three answer 200; /health keeps its figures, ready only the checks', async () => {
    const http = await healthApp({ redis: ok, mongodb: ok });
    const health = await http.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      checks: { redis: 'ok', mongodb: 'ok' },
      queue: { waiting: 3 },
    });
    expect(health.body.runtime).toEqual(expect.objectContaining({ rss_bytes: expect.any(Number) }));
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } });
    const live = await http.get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
  });

  it('when a required dependency fails, then /health and /health/ready answer 503 marking it, and /health/live still 200', async () => {
    const http = await healthApp({ redis: failing, mongodb: ok });
    const health = await http.get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', checks: { redis: 'error', mongodb: 'ok' } });
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'error', checks: { redis: 'error', mongodb: 'ok' } });
    expect((await http.get('/health/live')).status).toBe(200);
  });

  it('when a tolerable dependency fails or hangs, then it is stale and the service stays healthy and ready (200)', async () => {
    const http = await healthApp({
      redis: ok,
      mongodb: { check: hanging, whenFailing: 'stale' },
      keys: { check: failing, whenFailing: 'stale' },
    });
    const started = Date.now();
    const health = await http.get('/health');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      checks: { redis: 'ok', mongodb: 'stale', keys: 'stale' },
    });
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'ok', mongodb: 'stale', keys: 'stale' } });
  });

  it('when a tolerable dependency answers, then it is ok, not stale', async () => {
    const http = await healthApp({ mongodb: { check: ok, whenFailing: 'stale' } });
    expect((await http.get('/health/ready')).body).toEqual({ status: 'ok', checks: { mongodb: 'ok' } });
  });

  it('when a required dependency hangs, then /health/ready answers 503 within 1 s', async () => {
    const http = await healthApp({ redis: hanging });
    const started = Date.now();
    const ready = await http.get('/health/ready');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ redis: 'error' });
  });

  // Last: markNotReady cannot be undone in this process.
  it('when the process has begun to shut down, then /health/ready answers 503 while /health/live stays 200', async () => {
    const http = await healthApp({ redis: ok });
    expect((await http.get('/health/ready')).status).toBe(200);
    markNotReady();
    const ready = await http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'error', reason: 'shutting down' });
    expect((await http.get('/health/live')).status).toBe(200);
  });
});
