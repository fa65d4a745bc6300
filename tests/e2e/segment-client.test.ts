import { Analytics } from '@segment/analytics-node';
import type { TestSite } from '@analytics/testkit';
import { expectedStats, type SentEvent } from '../support/ground-truth';
import { rollupDifferences } from '../support/recount';
import {
  queryRows,
  startFlakyProxy,
  statsOf,
  storedEvents,
  type FlakyProxy,
} from '../support/foreign-clients';
import { startSystem, type TestSystem } from '../support/system';
import { segmentEventId } from '../../ingestion_service/src/mappings/segment.mapping';

/**
 * Segment's own Node library, unmodified, pointed at ingestion (through a proxy that can fail a request
 * after forwarding it): what it sends must be stored as the contract maps it, each message once.
 */
const FIREFOX = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0';

let system: TestSystem;
let proxy: FlakyProxy;

beforeAll(async () => {
  system = await startSystem();
  proxy = await startFlakyProxy(system.ingestUrl);
});
afterAll(async () => {
  await proxy?.close();
  await system?.close();
});

function client(site: TestSite, flushAt = 20): Analytics {
  const analytics = new Analytics({
    writeKey: site.writeKey,
    host: proxy.url,
    flushAt,
    flushInterval: 100,
    maxRetries: 3,
  });
  analytics.on('error', (error) => {
    throw new Error(`analytics-node reported: ${JSON.stringify(error)}`);
  });
  return analytics;
}

/** The messageIds the library sent (it emits every request it makes). */
function sentMessageIds(analytics: Analytics): string[] {
  const ids: string[] = [];
  analytics.on('http_request', (request) => {
    const { batch } = JSON.parse(request.body as string) as { batch: { messageId: string }[] };
    ids.push(...batch.map((message) => message.messageId));
  });
  return ids;
}

describe('@segment/analytics-node against ingestion', () => {
  it('when it sends track, page and identify, then the track and the page are stored as mapped, the identify not at all', async () => {
    const site = await system.newSite();
    const analytics = client(site);
    const ids = sentMessageIds(analytics);
    analytics.track({
      userId: 'user-1',
      event: 'Order Completed',
      properties: { total: 30, currency: 'EUR', items: [{ sku: 'a' }] },
      context: { ip: '81.2.69.142', userAgent: FIREFOX },
    });
    analytics.page({
      anonymousId: 'anon-1',
      name: 'Pricing',
      properties: {
        path: '/pricing',
        url: 'https://shop.example/pricing',
        referrer: 'https://www.google.com/',
      },
      context: { campaign: { source: 'newsletter', medium: 'email', name: 'spring' } },
    });
    analytics.identify({ userId: 'user-1', traits: { plan: 'pro' } });
    await analytics.closeAndFlush();
    expect(ids).toHaveLength(3);

    const events = await storedEvents(system, site.siteId, 2);
    expect(events).toHaveLength(2);
    const track = events.find((e) => e.event_type === 'Order Completed')!;
    const page = events.find((e) => e.event_type === 'page_view')!;
    expect(track).toMatchObject({
      event_id: segmentEventId(ids[0]!),
      user_id: 'user-1',
      visitor: 'u:user-1',
      browser: 'Firefox',
      country: 'GB',
      source: 'Direct / None',
      props: { currency: 'EUR', total: 30 },
    });
    expect(page).toMatchObject({
      event_id: segmentEventId(ids[1]!),
      path: '/pricing',
      source: 'newsletter',
      utm_source: 'newsletter',
      utm_campaign: 'spring',
      referrer: 'www.google.com',
      props: { path: '/pricing', referrer: 'https://www.google.com/', url: 'https://shop.example/pricing' },
    });
    expect(page.user_id).toBeUndefined();
    expect(page.visitor).toMatch(/^a:/);
    expect(await statsOf(system, site, page.day)).toEqual({
      site_id: site.siteId,
      date: page.day,
      total_views: 1,
      unique_users: 1,
      top_paths: [{ path: '/pricing', views: 1 }],
    });
    expect(await queryRows(system, site, ['visitors', 'events'], ['event:name', 'visit:source'])).toEqual({
      'Order Completed | Direct / None': [1, 1],
      'page_view | newsletter': [1, 1],
    });
    expect(await queryRows(system, site, ['events'], ['event:props:currency'])).toEqual({ EUR: [1] });
  });

  it('when 200 events are flushed, then each is stored once and /stats counts them exactly', async () => {
    const site = await system.newSite();
    const analytics = client(site, 50);
    const sent: SentEvent[] = [];
    for (let i = 0; i < 200; i += 1) {
      const userId = i % 3 === 0 ? `user-${i % 7}` : undefined;
      const identity = userId ? { userId } : { anonymousId: `anon-${i % 11}` };
      if (i % 4 === 0) {
        analytics.page({ ...identity, properties: { path: `/p/${i % 5}` } });
        sent.push({
          site_id: site.siteId,
          event_id: String(i),
          event_type: 'page_view',
          path: `/p/${i % 5}`,
          user_id: userId,
          timestamp: new Date().toISOString(),
        });
      } else {
        analytics.track({ ...identity, event: `event-${i % 3}`, properties: { i } });
        sent.push({
          site_id: site.siteId,
          event_id: String(i),
          event_type: `event-${i % 3}`,
          user_id: userId,
          timestamp: new Date().toISOString(),
        });
      }
    }
    await analytics.closeAndFlush();
    const events = await storedEvents(system, site.siteId, 200);
    expect(events).toHaveLength(200);
    const day = events[0]!.day;
    const expected = expectedStats(
      sent,
      site.siteId,
      Date.parse(`${day}T00:00:00Z`),
      Date.parse(`${day}T00:00:00Z`) + 86_400_000,
    );
    const body = await statsOf(system, site, day);
    expect({
      total_views: body.total_views,
      unique_users: body.unique_users,
      top_paths: body.top_paths,
    }).toEqual(expected);
    expect(new Set(events.map((e) => e.props.i).filter((i) => i !== undefined)).size).toBe(150);

    // Through the query API, from what was sent: a userId is one visitor, an anonymousId one per day.
    const visitorOf = (i: number) => (i % 3 === 0 ? `user-${i % 7}` : `anon-${i % 11}`);
    const truth = new Map<string, { visitors: Set<string>; events: number }>();
    sent.forEach((event, i) => {
      const row = truth.get(event.event_type) ?? { visitors: new Set(), events: 0 };
      row.visitors.add(visitorOf(i));
      row.events += 1;
      truth.set(event.event_type, row);
    });
    expect(await queryRows(system, site, ['visitors', 'events'], ['event:name'])).toEqual(
      Object.fromEntries([...truth].map(([name, row]) => [name, [row.visitors.size, row.events]])),
    );
    const props = await queryRows(system, site, ['events'], ['event:props:i']);
    expect(Object.keys(props)).toHaveLength(150);
    expect(Object.values(props).every(([events]) => events === 1)).toBe(true);
    const [visitors] = (await queryRows(system, site, ['visitors'], []))['']!;
    expect(visitors).toBe(new Set(sent.map((_, i) => visitorOf(i))).size);
  });

  it('when a batch is answered 503 after it reached ingestion, then the library resends the same messageIds and each is stored once', async () => {
    const site = await system.newSite();
    const analytics = client(site, 30);
    const ids = sentMessageIds(analytics);
    const requestsBefore = proxy.bodies.length;
    proxy.failNext = 1;
    for (let i = 0; i < 30; i += 1)
      analytics.track({ anonymousId: `a-${i}`, event: 'resent', properties: { i } });
    await analytics.closeAndFlush();
    // the first request was stored and answered 503; the resend carried the same 30 messageIds
    expect(proxy.bodies.length - requestsBefore).toBe(2);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(30);
    const events = await storedEvents(system, site.siteId, 30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedEvents(system, site.siteId, 30)).toHaveLength(30);
    expect(new Set(events.map((e) => e.event_id))).toEqual(new Set(ids.slice(0, 30).map(segmentEventId)));
  });
});

describe('POST /v1/batch under a backlog', () => {
  it('when 1,600 messages arrive at once in 4 batches (some resent, some unmappable), then storage and /stats match the ground truth', async () => {
    const site = await system.newSite();
    const now = Date.now();
    const sent: SentEvent[] = [];
    const batches: Record<string, unknown>[][] = [[], [], [], []];
    let unmappable = 0;
    for (let i = 0; i < 1600; i += 1) {
      const batch = batches[i % 4]!;
      const timestamp = new Date(now - (i % 600) * 1000).toISOString();
      const userId = i % 5 === 0 ? `user-${i % 13}` : undefined;
      const identity = userId ? { userId } : { anonymousId: `anon-${i % 17}` };
      // every 40th message resends an earlier one (same messageId, same content)
      const messageId = i % 40 === 39 ? `bk-${i - 20}` : `bk-${i}`;
      const source = i % 40 === 39 ? i - 20 : i;
      if (i % 97 === 0) {
        batch.push({ type: 'track', messageId, ...identity, timestamp }); // no event name
        unmappable += 1;
        continue;
      }
      const kind = source % 3;
      const sourceUser = source % 5 === 0 ? `user-${source % 13}` : undefined;
      const sourceIdentity = sourceUser ? { userId: sourceUser } : { anonymousId: `anon-${source % 17}` };
      const sourceTime = new Date(now - (source % 600) * 1000).toISOString();
      const message =
        kind === 0
          ? { type: 'page', properties: { path: `/docs/${source % 12}` } }
          : kind === 1
            ? { type: 'screen', name: `Screen${source % 4}` }
            : { type: 'track', event: `action-${source % 6}`, properties: { n: source } };
      batch.push({ ...message, messageId, ...sourceIdentity, timestamp: sourceTime });
      sent.push({
        site_id: site.siteId,
        event_id: messageId,
        event_type: kind === 2 ? `action-${source % 6}` : 'page_view',
        path: kind === 0 ? `/docs/${source % 12}` : kind === 1 ? `/Screen${source % 4}` : undefined,
        user_id: sourceUser,
        timestamp: sourceTime,
      });
    }
    const answers = await Promise.all(
      batches.map((batch) =>
        system.ingest
          .post('/v1/batch')
          .set('authorization', `Basic ${Buffer.from(`${site.writeKey}:`).toString('base64')}`)
          .send({ batch, sentAt: new Date().toISOString() }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.flatMap((a) => (a.body.dropped ?? []) as unknown[])).toHaveLength(unmappable);

    const distinct = new Set(sent.map((e) => e.event_id)).size;
    const events = await storedEvents(system, site.siteId, distinct);
    expect(events).toHaveLength(distinct);
    const days = [...new Set(events.map((e) => e.day))].sort();
    const from = days[0]!;
    const to = days.at(-1)!;
    const expected = expectedStats(
      sent,
      site.siteId,
      Date.parse(`${from}T00:00:00Z`),
      Date.parse(`${to}T00:00:00Z`) + 86_400_000,
    );
    const body = await statsOf(system, site, from, to);
    expect({
      total_views: body.total_views,
      unique_users: body.unique_users,
      top_paths: body.top_paths,
    }).toEqual(expected);
    expect(await rollupDifferences(system.ingestion.mongo)).toEqual([]);
  }, 120_000);
});
