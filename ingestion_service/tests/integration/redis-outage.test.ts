import { startTestRedis, waitFor, type TestRedis } from '@analytics/testkit';
import { buildEvent } from '../fixtures/events';
import { expectErrorBody } from '../../../tests/support/error-body';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

// A private redis-server: freezing or killing the shared one would break the other test files.
let redis: TestRedis;
let h: IngestionHarness;

beforeAll(async () => {
  redis = await startTestRedis();
  // Rate limits stay on, so their Redis round trips are part of what must fail fast.
  h = await startIngestionHarness({ REDIS_URL: redis.url });
});
afterAll(async () => {
  redis.resume();
  await h.close();
  await redis.stop();
});

async function send(): Promise<{
  status: number;
  ms: number;
  res: Awaited<ReturnType<IngestionHarness['http']['post']>>;
}> {
  const started = Date.now();
  const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).send(buildEvent(h.site.siteId));
  return { status: res.status, ms: Date.now() - started, res };
}

describe('when Redis is frozen (SIGSTOP)', () => {
  it('then POST /event answers 503 within 2 s with Retry-After, /health 503 within 1 s, and 202 again after SIGCONT', async () => {
    expect((await send()).status).toBe(202);

    redis.freeze();
    const frozen = await send();
    expect(frozen.status).toBe(503);
    expect(frozen.ms).toBeLessThan(2000);
    expectErrorBody(frozen.res, { code: 'queue-unavailable' });
    expect(Number(frozen.res.headers['retry-after'])).toBeGreaterThan(0);

    const started = Date.now();
    const health = await h.http.get('/health');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({
      status: 'error',
      checks: { redis: 'error', mongodb: 'ok' },
      runtime: expect.any(Object),
    });
    // It cannot do its job (accept events), but the process answers.
    const ready = await h.http.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'error', checks: { redis: 'error', mongodb: 'ok' } });
    expect((await h.http.get('/health/live')).status).toBe(200);

    redis.resume();
    const accepted = await waitFor(async () => ((await send()).status === 202 ? true : undefined), {
      timeoutMs: 5000,
      what: '202 after SIGCONT',
    });
    expect(accepted).toBe(true);
    expect((await h.http.get('/health')).status).toBe(200);
  });
});

describe('when Redis is stopped and restarted', () => {
  it('then POST /event answers 503 at once while it is down, and 202 again once it is back, with no restart', async () => {
    await redis.stop();
    const down = await send();
    expect(down.status).toBe(503);
    expect(down.ms).toBeLessThan(2000);
    expectErrorBody(down.res, { code: 'queue-unavailable' });

    redis = await startTestRedis({ port: redis.port });
    const back = await waitFor(
      async () => {
        const attempt = await send();
        return attempt.status === 202 ? attempt.res : undefined;
      },
      { timeoutMs: 10_000, what: '202 after Redis restarted' },
    );
    const stored = await h.enqueuedEvents();
    expect(stored.map((e) => e.event_id)).toContain(back.body.event_id);
  });
});
