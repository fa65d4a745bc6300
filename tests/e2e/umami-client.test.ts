import { Umami, type UmamiEventData } from '@umami/node';
import type { TestSite } from '@analytics/testkit';
import { queryRows, setSiteDomains, statsOf, storedEvents } from '../support/foreign-clients';
import { startSystem, type TestSystem } from '../support/system';

/** Umami's own Node client, unmodified, pointed at ingestion: `website` is the site id. */
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1';

let system: TestSystem;
let site: TestSite;

beforeAll(async () => {
  system = await startSystem();
  site = await system.newSite();
  await setSiteDomains(system, site, ['docs.example']);
});
afterAll(async () => {
  await system?.close();
});

function client(userAgent?: string): Umami {
  const umami = new Umami();
  umami.init({ websiteId: site.siteId, hostUrl: system.ingestUrl, userAgent });
  return umami;
}

describe('@umami/node against ingestion', () => {
  it('when it sends page views, a named event and an identify, then the page views and the event are stored as mapped, the identify not', async () => {
    const umami = client(SAFARI);
    const answers = await Promise.all([
      umami.track({
        url: '/guide?utm_source=mastodon',
        hostname: 'docs.example',
        referrer: 'https://github.com/x/y',
        title: 'Guide',
      }),
      umami.track({ url: 'https://docs.example/api', hostname: 'www.docs.example', title: 'API' }),
      umami.track({ url: '/guide', hostname: 'docs.example', id: 'persistent-user' } as never),
      umami.track('download', {
        file: 'a.pdf',
        size: 12,
        at: new Date('2026-01-02T03:04:05Z'),
        // what Umami's browser script passes on as it is; not a scalar, so dropped
        nested: { x: 1 },
      } as unknown as UmamiEventData),
      umami.identify({ plan: 'pro' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await answers[0]!.json()).toEqual({ success: true });

    const events = await storedEvents(system, site.siteId, 4);
    expect(events).toHaveLength(4);
    const views = events.filter((e) => e.event_type === 'page_view');
    expect(views.map((e) => e.path).sort()).toEqual(['/api', '/guide', '/guide']);
    const guide = views.find((e) => e.utm_source === 'mastodon')!;
    expect(guide).toMatchObject({
      source: 'mastodon',
      referrer: 'github.com/x/y',
      device: 'mobile',
      browser: 'Safari',
    });
    const download = events.find((e) => e.event_type === 'download')!;
    expect(download.props).toEqual({ at: '2026-01-02T03:04:05.000Z', file: 'a.pdf', size: 12 });
    expect(download.path).toBeUndefined();
    // Umami's persistent id is ignored: no user id, and the anonymous visitor is the same browser's
    expect(events.every((e) => e.user_id === undefined)).toBe(true);
    expect(new Set(events.map((e) => e.visitor)).size).toBe(1);
    expect(await statsOf(system, site, guide.day)).toMatchObject({
      total_views: 3,
      unique_users: 0,
      top_paths: [
        { path: '/guide', views: 2 },
        { path: '/api', views: 1 },
      ],
    });
    // Through the query API: one visitor (one browser), its visit entering by the guide from mastodon.
    expect(await queryRows(system, site, ['visitors', 'pageviews', 'events'], ['event:page'])).toEqual({
      '/guide': [1, 2, 2],
      '/api': [1, 1, 1],
    });
    expect(await queryRows(system, site, ['visitors', 'events'], ['event:props:file'])).toEqual({
      'a.pdf': [1, 1],
    });
    expect(await queryRows(system, site, ['visitors', 'visits', 'pageviews', 'events'], [])).toEqual({
      '': [1, 1, 3, 4],
    });
  });

  it('when the hostname is not a domain of the site, then the client gets 403 and nothing is stored', async () => {
    const other = await system.newSite();
    await setSiteDomains(system, other, ['mine.example']);
    const umami = new Umami();
    umami.init({ websiteId: other.siteId, hostUrl: system.ingestUrl, userAgent: SAFARI });
    const answer = await umami.track({ url: '/', hostname: 'someone-else.example' });
    expect(answer.status).toBe(403);
    const ok = await umami.track({ url: '/ok', hostname: 'mine.example' });
    expect(ok.status).toBe(200);
    const events = await storedEvents(system, other.siteId, 1);
    expect(events.map((e) => e.path)).toEqual(['/ok']);
  });
});
