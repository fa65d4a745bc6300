import { getSiteModel, METRIC_NAMES } from '@analytics/common';
import { insertTestSite, type TestSite } from '@analytics/testkit';
import { segmentEventId } from '../../src/mappings/segment.mapping';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';
import { USER_AGENTS } from '../fixtures/user-agents';

/** Segment's libraries: the write key as the Basic user name, no password. */
const basic = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

let h: IngestionHarness;
let shop: TestSite;

/** Gives a site its domains, as POST /sites or PATCH would, and waits for ingestion's view to have them. */
async function setDomains(site: TestSite, domains: string[]): Promise<void> {
  await getSiteModel(h.service.mongo).collection.updateOne(
    { site_id: site.siteId },
    { $set: { domains, updated_at: new Date() } },
  );
  await h.service.sites.refresh();
}

/** One series' value from the service's own registry (0 when absent). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const found = await h.service.metrics.registry.getSingleMetric(name)?.get();
  const entry = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return entry?.value ?? 0;
}

beforeAll(async () => {
  h = await startIngestionHarness({
    RATE_LIMIT_KEYLESS_SITE_PER_SECOND: '5',
    RATE_LIMIT_SITE_PER_SECOND: '0',
  });
  shop = await insertTestSite(h.service.mongo);
  await setDomains(shop, ['shop.example', 'blog.example']);
});
afterAll(async () => {
  await h.close();
});

describe('POST /v1/* (Segment)', () => {
  it('when a track comes with the write key as Basic user, then it is enqueued with the mapped fields and answered 200', async () => {
    const before = await metric(METRIC_NAMES.eventsAccepted, { endpoint: '/v1/track' });
    const res = await h.http
      .post('/v1/track')
      .set('authorization', basic(h.site.writeKey))
      .send({
        event: 'Order Completed',
        userId: 'user-1',
        messageId: 'msg/with spaces and ü',
        properties: { total: 30, items: [1, 2] },
        context: { ip: '81.2.69.142', userAgent: USER_AGENTS.macFirefox },
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const stored = (await h.enqueuedEvents()).find(
      (e) => e.event_id === segmentEventId('msg/with spaces and ü'),
    );
    expect(stored).toMatchObject({
      site_id: h.site.siteId,
      event_type: 'Order Completed',
      user_id: 'user-1',
      visitor: 'u:user-1',
      props: { total: 30 },
      browser: 'Firefox',
      country: 'GB',
    });
    expect(await metric(METRIC_NAMES.eventsAccepted, { endpoint: '/v1/track' })).toBe(before + 1);
    expect(h.service.dropped.total('props_dropped')).toBeGreaterThanOrEqual(1);
  });

  it('when the key is missing or wrong, then 401 and nothing is enqueued', async () => {
    const before = (await h.enqueuedEvents()).length;
    const missing = await h.http.post('/v1/page').send({ anonymousId: 'a', properties: { path: '/' } });
    const wrong = await h.http
      .post('/v1/page')
      .set('authorization', basic('wk_not-a-key'))
      .send({ anonymousId: 'a', properties: { path: '/' } });
    const inBody = await h.http
      .post('/v1/page')
      .send({ writeKey: 'nope', anonymousId: 'a', properties: { path: '/' } });
    expect([missing.status, wrong.status, inBody.status]).toEqual([401, 401, 401]);
    expect((await h.enqueuedEvents()).length).toBe(before);
  });

  it('when a batch holds one unmappable message, then the others are kept and the answer and the metric say which and why', async () => {
    const droppedBefore = await metric(METRIC_NAMES.eventsDropped, { reason: 'unmappable' });
    const res = await h.http.post('/v1/batch').send({
      writeKey: h.site.writeKey,
      batch: [
        { type: 'page', messageId: 'b-1', anonymousId: 'anon-9', properties: { path: '/a' } },
        { type: 'track', messageId: 'b-2', anonymousId: 'anon-9' }, // no event name
        { type: 'identify', messageId: 'b-3', userId: 'u-9', traits: { plan: 'pro' } },
        { type: 'screen', messageId: 'b-4', anonymousId: 'anon-9', name: 'Settings' },
        {
          type: 'track',
          messageId: 'b-5',
          anonymousId: 'anon-9',
          event: 'x',
          properties: { big: 'y'.repeat(33_000) },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      dropped: [
        { index: 1, messageId: 'b-2', reason: 'the event has no name' },
        { index: 4, messageId: 'b-5', reason: 'the message is larger than 32 KB' },
      ],
    });
    const events = await h.enqueuedEvents();
    const ids = new Set(['b-1', 'b-2', 'b-3', 'b-4', 'b-5'].map(segmentEventId));
    const ours = events.filter((e) => ids.has(e.event_id));
    expect(ours.map((e) => [e.event_id, e.event_type, e.path])).toEqual([
      [segmentEventId('b-1'), 'page_view', '/a'],
      [segmentEventId('b-4'), 'page_view', '/Settings'],
    ]);
    // anonymousId stands in for the IP and user agent: one visitor for both
    expect(ours[0]!.visitor).toMatch(/^a:/);
    expect(ours[1]!.visitor).toBe(ours[0]!.visitor);
    expect(await metric(METRIC_NAMES.eventsDropped, { reason: 'unmappable' })).toBe(droppedBefore + 2);
    expect(await metric(METRIC_NAMES.eventsAccepted, { endpoint: '/v1/batch' })).toBeGreaterThanOrEqual(2);
  });

  it('when the same anonymousId comes from two IPs, then it is one visitor; another anonymousId is another', async () => {
    const send = (anonymousId: string, ip: string, messageId: string) =>
      h.http
        .post('/v1/track')
        .set('authorization', basic(h.site.writeKey))
        .send({ anonymousId, messageId, event: 'e', context: { ip } });
    await send('same', '81.2.69.142', 'v-1');
    await send('same', '2a00:1450:4001:82a::200e', 'v-2');
    await send('other', '81.2.69.142', 'v-3');
    const byId = new Map((await h.enqueuedEvents()).map((e) => [e.event_id, e.visitor]));
    const [a, b, c] = ['v-1', 'v-2', 'v-3'].map((id) => byId.get(segmentEventId(id)));
    expect(a).toMatch(/^a:/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('when a batch holds more messages than a job, then all are enqueued, in jobs of at most 500 events', async () => {
    const before = (await h.enqueuedEvents()).length;
    const batch = Array.from({ length: 650 }, (_, i) => ({
      type: 'track',
      event: 'bulk',
      anonymousId: `a-${i % 9}`,
      messageId: `bulk-${i}`,
    }));
    const res = await h.http.post('/v1/batch').set('authorization', basic(h.site.writeKey)).send({ batch });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const events = await h.enqueuedEvents();
    expect(events.length - before).toBe(650);
    const ids = new Set(events.map((e) => e.event_id));
    expect(batch.every((m) => ids.has(segmentEventId(m.messageId)))).toBe(true);
    for (const request of await h.enqueuedRequests()) expect(request.events.length).toBeLessThanOrEqual(500);
  });

  it('when the body is not JSON or over 500 KB, then 400; an empty batch is fine', async () => {
    const notJson = await h.http
      .post('/v1/batch')
      .set('authorization', basic(h.site.writeKey))
      .set('content-type', 'application/json')
      .send('{"batch": [');
    const huge = await h.http
      .post('/v1/batch')
      .set('authorization', basic(h.site.writeKey))
      .send({
        batch: [{ type: 'track', event: 'x', anonymousId: 'a', properties: { p: 'x'.repeat(520_000) } }],
      });
    const noBatch = await h.http.post('/v1/batch').set('authorization', basic(h.site.writeKey)).send({});
    const empty = await h.http
      .post('/v1/batch')
      .set('authorization', basic(h.site.writeKey))
      .send({ batch: [] });
    expect([notJson.status, huge.status, noBatch.status, empty.status]).toEqual([400, 400, 400, 200]);
    expect(huge.body.code).toBe('request-too-large');
  });

  it('when the end user is a bot (context.userAgent), then 200 and nothing is enqueued; the library agent alone is never judged', async () => {
    const bot = await h.http
      .post('/v1/track')
      .set('authorization', basic(h.site.writeKey))
      .send({
        anonymousId: 'a',
        messageId: 'bot-1',
        event: 'e',
        context: { userAgent: USER_AGENTS.googlebot },
      });
    const library = await h.http
      .post('/v1/track')
      .set('authorization', basic(h.site.writeKey))
      .set('user-agent', 'analytics-node-next/latest')
      .send({ anonymousId: 'a', messageId: 'lib-1', event: 'e' });
    expect([bot.status, library.status]).toEqual([200, 200]);
    const ids = (await h.enqueuedEvents()).map((e) => e.event_id);
    expect(ids).not.toContain(segmentEventId('bot-1'));
    expect(ids).toContain(segmentEventId('lib-1'));
  });
});

describe('POST /api/event (Plausible)', () => {
  it("when the script's text/plain body names a registered domain, then a page view is enqueued for that site (202)", async () => {
    const res = await h.http
      .post('/api/event')
      .set('content-type', 'text/plain')
      .set('user-agent', USER_AGENTS.iPhoneSafari)
      .set('origin', 'https://shop.example')
      .send(
        JSON.stringify({
          n: 'pageview',
          u: 'https://shop.example/pricing?utm_source=newsletter',
          d: 'other.example,www.shop.example',
          r: 'https://news.ycombinator.com/item?id=1',
          v: 36,
        }),
      );
    expect(res.status).toBe(202);
    const event = (await h.enqueuedEvents()).filter((e) => e.site_id === shop.siteId).at(-1);
    expect(event).toMatchObject({
      event_type: 'page_view',
      path: '/pricing',
      device: 'mobile',
      source: 'newsletter',
      utm_source: 'newsletter',
      referrer: 'news.ycombinator.com/item',
    });
    expect(event!.visitor).toMatch(/^a:/);
  });

  it("when the domain is no site's, then 401; when the event is engagement, then 202 and nothing is enqueued", async () => {
    const before = (await h.enqueuedEvents()).length;
    const unknown = await h.http
      .post('/api/event')
      .send({ name: 'pageview', url: 'https://x.example/', domain: 'x.example' });
    const engagement = await h.http
      .post('/api/event')
      .set('user-agent', USER_AGENTS.desktopChrome)
      .send({ n: 'engagement', u: 'https://shop.example/', d: 'shop.example', sd: 50, e: 2000 });
    const invalid = await h.http.post('/api/event').send({ n: 'pageview', d: 'shop.example' });
    expect([unknown.status, engagement.status, invalid.status]).toEqual([401, 202, 400]);
    expect(invalid.body.details).toEqual([expect.objectContaining({ field: 'url' })]);
    expect((await h.enqueuedEvents()).length).toBe(before);
  });

  it("when the browser is a bot, then 202 and nothing is enqueued (a keyless request's agent is always the visitor's)", async () => {
    const before = (await h.enqueuedEvents()).length;
    const res = await h.http
      .post('/api/event')
      .set('user-agent', USER_AGENTS.googlebot)
      .send({ n: 'pageview', u: 'https://blog.example/', d: 'blog.example' });
    expect(res.status).toBe(202);
    expect((await h.enqueuedEvents()).length).toBe(before);
  });
});

describe('POST /api/send (Umami)', () => {
  it('when a page view and an event come for a site id with a matching hostname, then both are enqueued (200 JSON)', async () => {
    const send = (payload: Record<string, unknown>, type = 'event') =>
      h.http
        .post('/api/send')
        .set('user-agent', USER_AGENTS.desktopChrome)
        .send({ type, payload: { website: shop.siteId, hostname: 'shop.example', ...payload } });
    const view = await send({
      url: '/docs?utm_campaign=launch',
      referrer: 'https://www.google.com/',
      id: 'persistent',
    });
    const named = await send({ url: 'https://shop.example/cart', name: 'checkout', data: { total: 9 } });
    const identify = await send({ data: { plan: 'pro' } }, 'identify');
    expect([view.status, named.status, identify.status]).toEqual([200, 200, 200]);
    expect(view.body).toEqual({ success: true });
    const events = (await h.enqueuedEvents()).filter((e) => e.site_id === shop.siteId).slice(-2);
    expect(events.map((e) => [e.event_type, e.path, e.source, e.utm_campaign, e.props])).toEqual([
      ['page_view', '/docs', 'Google', 'launch', undefined],
      ['checkout', '/cart', 'Direct / None', undefined, { total: 9 }],
    ]);
    expect(events[0]!.user_id).toBeUndefined();
  });

  it("when the hostname is not one of the site's domains or the site is unknown, then 403 / 401", async () => {
    const foreignHost = await h.http
      .post('/api/send')
      .send({ type: 'event', payload: { website: shop.siteId, hostname: 'evil.example', url: '/' } });
    const unknownSite = await h.http
      .post('/api/send')
      .send({ type: 'event', payload: { website: 'no-such-site', url: '/' } });
    expect([foreignHost.status, unknownSite.status]).toEqual([403, 401]);
  });
});

describe('keyless requests and the browser', () => {
  it('when keyless requests exceed RATE_LIMIT_KEYLESS_SITE_PER_SECOND, then 429, while the write key still passes', async () => {
    const site = await insertTestSite(h.service.mongo);
    await setDomains(site, ['limited.example']);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.http
          .post('/api/event')
          .set('user-agent', USER_AGENTS.desktopChrome)
          .send({ n: 'pageview', u: 'https://limited.example/', d: 'limited.example' })
          .then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    const keyed = await h.http
      .post('/v1/track')
      .set('authorization', basic(site.writeKey))
      .send({ anonymousId: 'a', event: 'still-allowed' });
    expect(keyed.status).toBe(200);
  });

  it("when a browser asks before posting with Umami's or Segment's headers, then the preflight allows it", async () => {
    const res = await h.http
      .options('/api/send')
      .set('origin', 'https://shop.example')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'content-type,x-umami-cache,authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/x-umami-cache/i);
    expect(res.headers['access-control-allow-headers']).toMatch(/authorization/i);
  });
});
