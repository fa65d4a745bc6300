import { buildEvent } from '../fixtures/events';
import { expectErrorBody } from '../../../tests/support/error-body';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

let h: IngestionHarness;

beforeAll(async () => {
  h = await startIngestionHarness();
});
afterAll(async () => {
  await h.close();
});

/** `date` as ISO-8601 local time at `offsetMinutes` east of UTC, with that offset (`+02:00`, `-05:30`). */
function withOffset(date: Date, offsetMinutes: number): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

describe('POST /event', () => {
  it('when a valid page view is sent with the header key, then 202 and the normalised, enriched event is enqueued', async () => {
    const before = (await h.enqueuedRequests()).length;
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send({
        site_id: h.site.siteId,
        event_type: 'pageview',
        path: '/pricing?plan=pro#top',
        user_id: 'u-1',
        event_id: 'evt_123-abc',
        timestamp: new Date(Date.now() - 60_000).toISOString().replace('Z', '+00:00'),
        referrer: 'https://example.com/',
        props: { plan: 'pro', seats: 3, trial: false },
      });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, event_id: 'evt_123-abc' });
    const requests = await h.enqueuedRequests();
    expect(requests).toHaveLength(before + 1);
    const request = requests.at(-1)!;
    expect(request.request_id).toBe(res.headers['x-request-id']);
    expect(request.events).toEqual([
      {
        site_id: h.site.siteId,
        event_id: 'evt_123-abc',
        event_type: 'page_view',
        path: '/pricing',
        user_id: 'u-1',
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        referrer: 'example.com',
        props: { plan: 'pro', seats: 3, trial: false },
        // derived (docs/api.md): no user agent and a loopback address give no device, browser or country
        visitor: 'u:u-1',
        device: 'unknown',
        source: 'example.com',
      },
    ]);
  });

  it('when the event type has spaces and any script (contract Part 2), then it is accepted as sent', async () => {
    for (const eventType of ['Order Completed', 'Añadir al carrito', '注文完了 🎉', 'x'.repeat(120)]) {
      const res = await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .send({ site_id: h.site.siteId, event_type: eventType });
      expect(res.status).toBe(202);
      expect((await h.enqueuedEvents()).at(-1)).toMatchObject({ event_type: eventType });
    }
  });

  it('when hash_routing is true (the tag with data-hash), then the fragment stays in the path, the query does not', async () => {
    for (const [hashRouting, expected] of [
      [true, '/app#/orders/7'],
      [false, '/app'],
    ] as const) {
      const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).send({
        site_id: h.site.siteId,
        event_type: 'page_view',
        path: '/app?utm_source=x#/orders/7',
        hash_routing: hashRouting,
      });
      expect(res.status).toBe(202);
      expect((await h.enqueuedEvents()).at(-1)).toMatchObject({ path: expected, utm_source: 'x' });
    }
    const bad = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send({ site_id: h.site.siteId, event_type: 'page_view', path: '/', hash_routing: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('hash_routing');
  });

  it('when no event_id is sent, then one is assigned, returned and enqueued', async () => {
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send({ site_id: h.site.siteId, event_type: 'signup' });
    expect(res.status).toBe(202);
    expect(res.body.event_id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const events = await h.enqueuedEvents();
    expect(events.at(-1)).toMatchObject({ event_id: res.body.event_id, event_type: 'signup' });
    expect(events.at(-1)).not.toHaveProperty('path');
  });

  it('when the timestamp is absent, then the arrival time is used; when it has an offset, then it is stored in UTC', async () => {
    const before = Date.now();
    await h.http.post('/event').set('x-api-key', h.site.writeKey).send(buildEvent(h.site.siteId)).expect(202);
    const absent = (await h.enqueuedEvents()).at(-1)!;
    expect(Date.parse(absent.timestamp)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(absent.timestamp)).toBeLessThanOrEqual(Date.now() + 5);

    // The same instant written with offsets on both sides of UTC, at any hour of the day: with +14:00 and
    // -12:00 among them, at least one local date differs from the UTC date whatever the hour.
    const instant = new Date(Date.now() - 3_600_000);
    for (const offsetMinutes of [120, -330, 840, -720, 0]) {
      const written = withOffset(instant, offsetMinutes);
      await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .send(buildEvent(h.site.siteId, { timestamp: written }))
        .expect(202);
      expect((await h.enqueuedEvents()).at(-1)!.timestamp).toBe(instant.toISOString());
    }
  });

  it('when the body is text/plain holding JSON with the key inside (sendBeacon), then 202', async () => {
    const event = buildEvent(h.site.siteId, { write_key: h.site.writeKey });
    const res = await h.http.post('/event').set('content-type', 'text/plain').send(JSON.stringify(event));
    expect(res.status).toBe(202);
    expect((await h.enqueuedEvents()).at(-1)).toMatchObject({ event_id: event.event_id });
    expect((await h.enqueuedEvents()).at(-1)).not.toHaveProperty('write_key');
  });

  describe('when the body is invalid, then 400 names the field and nothing is enqueued', () => {
    const cases: [string, (site: string) => unknown, string][] = [
      ['missing site_id', (s) => ({ ...buildEvent(s), site_id: undefined }), 'site_id'],
      ['site_id with a space', (s) => buildEvent(s, { site_id: 'a b' }), 'site_id'],
      ['site_id as an operator object', (s) => buildEvent(s, { site_id: { $ne: 'x' } }), 'site_id'],
      ['site_id longer than 64', (s) => buildEvent(s, { site_id: 'a'.repeat(65) }), 'site_id'],
      ['missing event_type', (s) => ({ ...buildEvent(s), event_type: undefined }), 'event_type'],
      ['event_type with a control character', (s) => buildEvent(s, { event_type: 'a\u0007b' }), 'event_type'],
      ['event_type of 121 characters', (s) => buildEvent(s, { event_type: 'é'.repeat(121) }), 'event_type'],
      ['page_view without path', (s) => ({ ...buildEvent(s), path: undefined }), 'path'],
      [
        'pageview alias without path',
        (s) => ({ ...buildEvent(s, { event_type: 'pageview' }), path: undefined }),
        'path',
      ],
      ['path not starting with /', (s) => buildEvent(s, { path: 'pricing' }), 'path'],
      ['path over 2048 chars', (s) => buildEvent(s, { path: `/${'a'.repeat(2048)}` }), 'path'],
      ['empty user_id', (s) => buildEvent(s, { user_id: '' }), 'user_id'],
      ['user_id over 256 chars', (s) => buildEvent(s, { user_id: 'u'.repeat(257) }), 'user_id'],
      ['numeric user_id', (s) => buildEvent(s, { user_id: 42 }), 'user_id'],
      ['timestamp without zone', (s) => buildEvent(s, { timestamp: '2025-11-12T10:00:00' }), 'timestamp'],
      ['impossible date', (s) => buildEvent(s, { timestamp: '2025-02-30T10:00:00Z' }), 'timestamp'],
      [
        'timestamp 10 minutes ahead',
        (s) => buildEvent(s, { timestamp: new Date(Date.now() + 600_000).toISOString() }),
        'timestamp',
      ],
      [
        'timestamp 8 days old',
        (s) => buildEvent(s, { timestamp: new Date(Date.now() - 8 * 86_400_000).toISOString() }),
        'timestamp',
      ],
      ['event_id with a dot', (s) => buildEvent(s, { event_id: 'a.b' }), 'event_id'],
      ['event_id over 64 chars', (s) => buildEvent(s, { event_id: 'e'.repeat(65) }), 'event_id'],
      ['referrer over 2048 chars', (s) => buildEvent(s, { referrer: 'r'.repeat(2049) }), 'referrer'],
      [
        'props with 21 keys',
        (s) => buildEvent(s, { props: Object.fromEntries([...Array(21).keys()].map((i) => [`k${i}`, i])) }),
        'props',
      ],
      [
        'props key over 64 chars',
        (s) => buildEvent(s, { props: { ['k'.repeat(65)]: 1 } }),
        `props.${'k'.repeat(65)}`,
      ],
      ['props nested object', (s) => buildEvent(s, { props: { a: { b: 1 } } }), 'props.a'],
      ['props string over 256', (s) => buildEvent(s, { props: { a: 'x'.repeat(257) } }), 'props.a'],
      ['props as an array', (s) => buildEvent(s, { props: [1] }), 'props'],
      ['an unknown field', (s) => buildEvent(s, { color: 'red' }), 'color'],
      ['a __proto__ key', (s) => buildEvent(s), '__proto__'],
      ['a top-level array', (s) => [buildEvent(s)], '(body)'],
    ];
    it.each(cases)('%s', async (_name, makeBody, field) => {
      const before = (await h.jobs()).length;
      const body = makeBody(h.site.siteId);
      // JSON.stringify drops undefined fields and cannot write an own __proto__ key: add it by hand.
      const text = JSON.stringify(body);
      const payload = field === '__proto__' ? text.replace(/^\{/, '{"__proto__":{"admin":true},') : text;
      const res = await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .set('content-type', 'application/json')
        .send(payload);
      expect(res.status).toBe(400);
      expectErrorBody(res, { code: 'validation-failed', fields: [field] });
      expect(await h.jobs()).toHaveLength(before);
    });
  });

  it('when the JSON is malformed, then 400 malformed-json', async () => {
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .set('content-type', 'application/json')
      .send('{"site_id": ');
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'malformed-json' });
  });

  it('when there is no body, then 400', async () => {
    const res = await h.http.post('/event').set('x-api-key', h.site.writeKey);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'invalid-request' });
  });

  it('when the body is over 32 KiB, then 413 and nothing is enqueued', async () => {
    const before = (await h.jobs()).length;
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send(buildEvent(h.site.siteId, { referrer: 'r'.repeat(33 * 1024) }));
    expect(res.status).toBe(413);
    expectErrorBody(res, { code: 'payload-too-large' });
    expect(await h.jobs()).toHaveLength(before);
  });

  it('when the content type is form-encoded, then 415', async () => {
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('site_id=x');
    expect(res.status).toBe(415);
    expectErrorBody(res, { code: 'unsupported-content-type' });
  });

  describe('write keys', () => {
    it('when no key is sent, then 401 missing-write-key and nothing is enqueued', async () => {
      const before = (await h.jobs()).length;
      const res = await h.http.post('/event').send(buildEvent(h.site.siteId));
      expect(res.status).toBe(401);
      expectErrorBody(res, { code: 'missing-write-key' });
      expect(await h.jobs()).toHaveLength(before);
    });

    it('when a wrong key is sent, then 401 invalid-write-key', async () => {
      const res = await h.http.post('/event').set('x-api-key', 'wk_wrong').send(buildEvent(h.site.siteId));
      expect(res.status).toBe(401);
      expectErrorBody(res, { code: 'invalid-write-key', fields: ['x-api-key'] });
    });

    it('when the key of another site is sent, then 401 naming site_id', async () => {
      const { insertTestSite } = await import('@analytics/testkit');
      const other = await insertTestSite(h.service.mongo);
      await h.service.sites.refresh();
      const res = await h.http
        .post('/event')
        .set('x-api-key', other.writeKey)
        .send(buildEvent(h.site.siteId));
      expect(res.status).toBe(401);
      expectErrorBody(res, { code: 'invalid-write-key', fields: ['site_id'] });
    });

    it('when the header and body keys differ, then 401', async () => {
      const res = await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .send(buildEvent(h.site.siteId, { write_key: 'wk_other' }));
      expect(res.status).toBe(401);
      expectErrorBody(res, { code: 'invalid-write-key', fields: ['write_key'] });
    });

    it('when a site key is replaced after use, then the old key is refused and the new one accepted', async () => {
      const { insertTestSite } = await import('@analytics/testkit');
      const { getSiteModel, newSiteKeys } = await import('@analytics/common');
      const site = await insertTestSite(h.service.mongo);
      await h.service.sites.refresh();
      const send = (key: string) =>
        h.http
          .post('/event')
          .set('x-api-key', key)
          .send(buildEvent(site.siteId, { path: '/rotated' }));
      expect((await send(site.writeKey)).status).toBe(202);

      const replacement = newSiteKeys();
      await getSiteModel(h.service.mongo).updateOne(
        { site_id: site.siteId },
        { $set: { write_key_hash: replacement.writeKeyHash, updated_at: new Date() } },
      );
      await h.service.sites.refresh();

      const old = await send(site.writeKey);
      expect(old.status).toBe(401);
      expectErrorBody(old, { code: 'invalid-write-key', fields: ['x-api-key'] });
      expect((await send(replacement.writeKey)).status).toBe(202);
      const stored = (await h.enqueuedEvents()).filter((event) => event.site_id === site.siteId);
      expect(stored).toHaveLength(2);
    });

    it('when the site_id is unknown, then 401 without a database round trip', async () => {
      const res = await h.http
        .post('/event')
        .set('x-api-key', h.site.writeKey)
        .send(buildEvent('no-such-site'));
      expect(res.status).toBe(401);
    });
  });

  it('when the route is unknown, then 404 with the error body', async () => {
    const res = await h.http.post('/nope').send({});
    expect(res.status).toBe(404);
    expectErrorBody(res, { code: 'not-found' });
  });

  it('when a browser preflights from any origin, then CORS allows it', async () => {
    const res = await h.http
      .options('/event')
      .set('origin', 'https://shop.example')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'content-type,x-api-key');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/X-API-Key/i);
  });
});
