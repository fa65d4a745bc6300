import type { TrackedEvent } from '@analytics/common';
import { buildEvent, type EventBody } from '../fixtures/events';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';
import { USER_AGENTS } from '../fixtures/user-agents';

const SITE_DOMAINS = ['shop.example'];
let h: IngestionHarness;

beforeAll(async () => {
  h = await startIngestionHarness({}, { siteSettings: { domainsOf: () => SITE_DOMAINS } });
});
afterAll(async () => {
  await h.close();
});

async function enqueued(eventId: unknown): Promise<TrackedEvent | undefined> {
  return (await h.enqueuedEvents()).find((e) => e.event_id === eventId);
}

/** Sends one event as a server-side sender with the header key; answers what was enqueued for it. */
async function sendOne(
  overrides: EventBody,
  headers: Record<string, string> = {},
): Promise<TrackedEvent | undefined> {
  const event = buildEvent(h.site.siteId, overrides);
  const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).set(headers).send(event);
  expect(res.status).toBe(202);
  return enqueued(event.event_id);
}

describe('derived fields of POST /event', () => {
  it.each([
    ['desktop Chrome', USER_AGENTS.desktopChrome, { device: 'desktop', browser: 'Chrome', os: 'Windows' }],
    ['iPhone Safari', USER_AGENTS.iPhoneSafari, { device: 'mobile', browser: 'Safari', os: 'iOS' }],
    ['an Android tablet', USER_AGENTS.androidTablet, { device: 'tablet', browser: 'Chrome', os: 'Android' }],
    ['curl (a server-side sender: never a bot by its own agent)', USER_AGENTS.curl, { device: 'unknown' }],
  ])('when the request user agent is %s, then the enqueued event has %j', async (_, ua, traits) => {
    const event = await sendOne({}, { 'user-agent': ua });
    expect(event).toBeDefined();
    expect({ device: event!.device, browser: event!.browser, os: event!.os }).toEqual({
      browser: undefined,
      os: undefined,
      ...traits,
    });
  });

  it.each([
    ['an IPv4 address', '81.2.69.142', 'GB'],
    ['an IPv6 address', '2a00:1450:4001:82a::200e', 'IE'],
    // the database maps some special-purpose ranges to the registry's country: they are left out
    ['a private address', '192.168.1.20', undefined],
    ['a documentation address', '203.0.113.5', undefined],
    ['a unique local IPv6 address', 'fd12:3456::1', undefined],
  ])('when context.ip is %s (%s), then the country is %s', async (_, ip, country) => {
    const event = await sendOne({ context: { ip } });
    expect(event?.country).toBe(country);
    expect(JSON.stringify(event)).not.toContain(ip);
  });

  it.each([
    [
      'Google',
      { referrer: 'https://www.google.com/search?q=shoes' },
      { referrer: 'www.google.com/search', source: 'Google' },
    ],
    [
      'Hacker News',
      { referrer: 'https://news.ycombinator.com/item?id=1' },
      { referrer: 'news.ycombinator.com/item', source: 'Hacker News' },
    ],
    [
      'another site',
      { referrer: 'https://www.blog.example.net/post?x=1' },
      { referrer: 'www.blog.example.net/post', source: 'blog.example.net' },
    ],
    [
      'a self-referral',
      { referrer: 'https://www.shop.example/cart' },
      { referrer: undefined, source: 'Direct / None' },
    ],
    ['no referrer', {}, { referrer: undefined, source: 'Direct / None' }],
    ['an empty referrer', { referrer: '' }, { referrer: undefined, source: 'Direct / None' }],
    [
      'UTM tags and a Google referrer',
      {
        path: '/landing?utm_source=newsletter&utm_medium=email&utm_campaign=winter&utm_term=boots&utm_content=hero',
        referrer: 'https://www.google.com/',
      },
      {
        path: '/landing',
        referrer: 'www.google.com',
        source: 'newsletter',
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: 'winter',
        utm_term: 'boots',
        utm_content: 'hero',
      },
    ],
  ])('when the event has %s, then it is enqueued with %j', async (_, fields, expected) => {
    const event = await sendOne(fields);
    expect(event).toBeDefined();
    for (const [field, value] of Object.entries(expected)) {
      expect([field, event![field as keyof TrackedEvent]]).toEqual([field, value]);
    }
  });
});

describe('the context object', () => {
  it.each([
    ['an IP that is not one', { ip: '300.1.2.3' }, 'context.ip'],
    ['a CIDR range', { ip: '10.0.0.0/8' }, 'context.ip'],
    ['a number as IP', { ip: 42 }, 'context.ip'],
    ['a user agent over 512 characters', { user_agent: 'x'.repeat(513) }, 'context.user_agent'],
    ['an empty user agent', { user_agent: '' }, 'context.user_agent'],
    ['an unknown key', { locale: 'de' }, 'context.locale'],
  ])('when context has %s (%j), then 400 names %s', async (_, context, field) => {
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send(buildEvent(h.site.siteId, { context }));
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('when context is no object, then 400 names context', async () => {
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .send(buildEvent(h.site.siteId, { context: '81.2.69.142' }));
    expect(res.status).toBe(400);
    expect(res.body.details[0].field).toBe('context');
  });

  it('when one event of a batch has a bad context, then 400 names it by index and nothing is enqueued', async () => {
    const before = (await h.enqueuedEvents()).length;
    const res = await h.http
      .post('/events')
      .set('x-api-key', h.site.writeKey)
      .send({ events: [buildEvent(h.site.siteId), buildEvent(h.site.siteId, { context: { ip: 'nope' } })] });
    expect(res.status).toBe(400);
    expect(res.body.details[0].field).toBe('events[1].context.ip');
    expect(await h.enqueuedEvents()).toHaveLength(before);
  });
});

describe('bots', () => {
  it("when a browser's own request (Origin) comes from Googlebot, then 202 and nothing is enqueued, but counted", async () => {
    const counted = h.service.dropped.total('bot');
    const event = buildEvent(h.site.siteId);
    const res = await h.http
      .post('/event')
      .set('x-api-key', h.site.writeKey)
      .set('origin', 'https://shop.example')
      .set('user-agent', USER_AGENTS.googlebot)
      .send(event);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, event_id: event.event_id });
    expect(await enqueued(event.event_id)).toBeUndefined();
    expect(h.service.dropped.total('bot')).toBe(counted + 1);
  });

  it('when a sendBeacon (text/plain) request comes from HeadlessChrome, then it is a bot', async () => {
    const event = buildEvent(h.site.siteId);
    const res = await h.http
      .post('/event')
      .set('content-type', 'text/plain')
      .set('origin', 'https://shop.example')
      .set('user-agent', USER_AGENTS.headlessChrome)
      .send(JSON.stringify({ ...event, write_key: h.site.writeKey }));
    expect(res.status).toBe(202);
    expect(await enqueued(event.event_id)).toBeUndefined();
  });

  it('when Postman, curl or Node fetch sends text/plain with the key in the body (no Origin), then it is never a bot', async () => {
    for (const agent of ['PostmanRuntime/7.39.0', 'curl/8.5.0', 'node']) {
      const event = buildEvent(h.site.siteId);
      const res = await h.http
        .post('/event')
        .set('content-type', 'text/plain')
        // Node's fetch sends this too: it does not make the sender a browser.
        .set('sec-fetch-mode', 'cors')
        .set('user-agent', agent)
        .send(JSON.stringify({ ...event, write_key: h.site.writeKey }));
      expect(res.status).toBe(202);
      expect(await enqueued(event.event_id)).toMatchObject({ event_id: event.event_id });
    }
  });

  it('when a server-side sender forwards a bot in context.user_agent, then that event alone is left out of the batch', async () => {
    const counted = h.service.dropped.total('bot');
    const human = buildEvent(h.site.siteId, { context: { user_agent: USER_AGENTS.iPhoneSafari } });
    const bot = buildEvent(h.site.siteId, { context: { user_agent: USER_AGENTS.googlebot } });
    const res = await h.http
      .post('/events')
      .set('x-api-key', h.site.writeKey)
      .set('user-agent', USER_AGENTS.node)
      .send({ events: [human, bot] });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 2, event_ids: [human.event_id, bot.event_id] });
    expect(await enqueued(human.event_id)).toMatchObject({ device: 'mobile', os: 'iOS' });
    expect(await enqueued(bot.event_id)).toBeUndefined();
    expect(h.service.dropped.total('bot')).toBe(counted + 1);
  });

  it('when curl, Postman or node send with the header key and no context, then the events are kept', async () => {
    for (const ua of [USER_AGENTS.curl, USER_AGENTS.postman, USER_AGENTS.node]) {
      expect(await sendOne({}, { 'user-agent': ua })).toBeDefined();
    }
  });
});

describe('TRUST_PROXY', () => {
  const FORGED = { 'x-forwarded-for': '81.2.69.142', 'user-agent': USER_AGENTS.desktopChrome };

  it('when it is off (the default), then a forged X-Forwarded-For is ignored: the socket address counts', async () => {
    const forged = await sendOne({ user_id: undefined }, FORGED);
    const plain = await sendOne({ user_id: undefined }, { 'user-agent': USER_AGENTS.desktopChrome });
    expect(forged?.country).toBeUndefined();
    expect(forged?.visitor).toBe(plain?.visitor);
  });

  describe('when it trusts the loopback proxy', () => {
    let proxied: IngestionHarness;
    beforeAll(async () => {
      proxied = await startIngestionHarness({ TRUST_PROXY: 'loopback' });
    });
    afterAll(async () => {
      await proxied.close();
    });
    async function send(headers: Record<string, string>): Promise<TrackedEvent | undefined> {
      const event = buildEvent(proxied.site.siteId, { user_id: undefined });
      const res = await proxied.http
        .post('/event')
        .set('x-api-key', proxied.site.writeKey)
        .set(headers)
        .send(event);
      expect(res.status).toBe(202);
      return (await proxied.enqueuedEvents()).find((e) => e.event_id === event.event_id);
    }

    it('then the address the proxy reports counts, and a forged address before it in the chain does not', async () => {
      const reported = await send(FORGED);
      expect(reported?.country).toBe('GB');
      const chain = await send({ ...FORGED, 'x-forwarded-for': '8.8.8.8, 81.2.69.142' });
      expect(chain?.country).toBe('GB');
      expect(chain?.visitor).toBe(reported?.visitor);
    });
  });
});
