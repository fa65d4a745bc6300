import { buildEvent } from '../fixtures/events';
import { expectErrorBody } from '../../../tests/support/error-body';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

describe('rate limits', () => {
  let h: IngestionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('when one IP exceeds RATE_LIMIT_IP_PER_MINUTE, then 429 with Retry-After and nothing more is enqueued', async () => {
    h = await startIngestionHarness({ RATE_LIMIT_IP_PER_MINUTE: '3', RATE_LIMIT_SITE_PER_SECOND: '0' });
    for (let i = 0; i < 3; i += 1) {
      await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .send(buildEvent(h.site.siteId))
        .expect(202);
    }
    const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).send(buildEvent(h.site.siteId));
    expect(res.status).toBe(429);
    expectErrorBody(res, { code: 'rate-limited' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await h.enqueuedRequests()).toHaveLength(3);
  });

  it('when a site exceeds RATE_LIMIT_SITE_PER_SECOND counted in events, then 429 with Retry-After', async () => {
    h = await startIngestionHarness({ RATE_LIMIT_IP_PER_MINUTE: '0', RATE_LIMIT_SITE_PER_SECOND: '500' });
    const four = Array.from({ length: 400 }, () => buildEvent(h.site.siteId, { path: '/' }));
    const two = Array.from({ length: 200 }, () => buildEvent(h.site.siteId, { path: '/' }));
    const first = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events: four });
    const second = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events: two });
    // Both fall in the same second unless the first straddles a window edge; then a 600-event batch must fail.
    if (second.status === 202) {
      const third = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events: four });
      expect(third.status).toBe(429);
      expectErrorBody(third, { code: 'rate-limited' });
      expect(third.headers['retry-after']).toBe('1');
      expect(await h.enqueuedRequests()).toHaveLength(2);
      return;
    }
    expect(first.status).toBe(202);
    expect(second.status).toBe(429);
    expectErrorBody(second, { code: 'rate-limited' });
    expect(second.headers['retry-after']).toBe('1');
    expect(await h.enqueuedRequests()).toHaveLength(1);
  });

  it('when both limits are 0, then many requests from one IP are all accepted', async () => {
    h = await startIngestionHarness({ RATE_LIMIT_IP_PER_MINUTE: '0', RATE_LIMIT_SITE_PER_SECOND: '0' });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () =>
        h.http
          .post('/event')
          .set('x-api-key', h.site.writeKey)
          .send(buildEvent(h.site.siteId))
          .then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect(await h.enqueuedRequests()).toHaveLength(40);
  });
});
