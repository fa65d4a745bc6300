/**
 * Visitors and visits (contract Part 2), end to end: events sent over HTTP with the end user's IP and user
 * agent, processed, then asked through POST /api/v2/query. Every expected figure is worked out by hand
 * next to the events that make it.
 */
import { getRawEventModel, getVisitPartModel } from '@analytics/common';
import type { TestSite } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { configureSite, query } from '../support/query-client';
import { startSystem, type TestSystem } from '../support/system';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

const HOUR = 3_600_000;
const MIN = 60_000;
/** A fixed base well inside the accepted age: yesterday 12:00 UTC. */
const base = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 12 * HOUR;
const at = (ms: number) => new Date(base + ms).toISOString();
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let system: TestSystem;
let n = 0;

function pageview(path: string, ms: number, who: { ip: string; ua: string; user_id?: string }) {
  n += 1;
  return {
    event_id: `v${n}`,
    event_type: 'page_view',
    path,
    timestamp: at(ms),
    ...(who.user_id && { user_id: who.user_id }),
    context: { ip: who.ip, user_agent: who.ua },
  };
}

async function send(site: TestSite, events: object[]): Promise<void> {
  const res = await system.ingest
    .post('/events')
    .set('x-api-key', site.writeKey)
    .send({ events: events.map((e) => ({ site_id: site.siteId, ...e })) });
  expect(res.status).toBe(202);
  await waitForDrain(system.queue);
}

const totals = (
  site: TestSite,
  date_range: unknown = [dayOf(base - 2 * 24 * HOUR), dayOf(base + 2 * 24 * HOUR)],
) =>
  query(system.report, site, {
    metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'],
    date_range,
  }).then((answer) => answer.results[0]!.metrics);

beforeAll(async () => {
  system = await startSystem({ ingestionEnv: { MAX_EVENT_AGE_HOURS: '96' } });
});
afterAll(async () => {
  await system?.close();
});

describe('visitors and visits', () => {
  it('when one person (IP + UA) views three pages, then it is one visitor and one visit; another UA is another visitor', async () => {
    const site = await system.newSite();
    const person = { ip: '203.0.113.7', ua: CHROME };
    await send(site, [
      pageview('/', 0, person),
      pageview('/a', 5 * MIN, person),
      pageview('/b', 9 * MIN, person),
    ]);
    // visitors 1, visits 1, page views 3, no bounce, duration 9 min = 540 s
    expect(await totals(site)).toEqual([1, 1, 3, 0, 540]);

    await send(site, [pageview('/', 2 * MIN, { ip: '203.0.113.7', ua: IPHONE })]);
    // the iPhone is a second visitor with a bouncing visit: 2 visitors, 2 visits, 4 views,
    // bounce 1 of 2 = 50 %, duration (540 + 0) / 2 = 270 s
    expect(await totals(site)).toEqual([2, 2, 4, 50, 270]);
    const stored = await getRawEventModel(system.ingestion.mongo).find({ site_id: site.siteId }).lean();
    expect(new Set(stored.map((e) => e.visitor)).size).toBe(2);
  });

  it('when a gap of 30 minutes separates two views, then they are two visits, each bouncing', async () => {
    const site = await system.newSite();
    const person = { ip: '198.51.100.1', ua: CHROME };
    await send(site, [pageview('/x', 0, person), pageview('/y', 30 * MIN, person)]);
    expect(await totals(site)).toEqual([1, 2, 2, 100, 0]);
    // 29:59 later is still the same visit
    const other = await system.newSite();
    await send(other, [pageview('/x', 0, person), pageview('/y', 30 * MIN - 1000, person)]);
    expect(await totals(other)).toEqual([1, 1, 2, 0, 1799]);
  });

  it('when a late event falls between two visits, then they merge into one, with its entry and exit pages', async () => {
    const site = await system.newSite();
    const person = { ip: '198.51.100.2', ua: CHROME };
    await send(site, [pageview('/first', 0, person), pageview('/last', 40 * MIN, person)]);
    expect(await totals(site)).toEqual([1, 2, 2, 100, 0]);
    await send(site, [pageview('/middle', 20 * MIN, person)]); // late, and out of order
    expect(await totals(site)).toEqual([1, 1, 3, 0, 2400]);
    const pages = await query(system.report, site, {
      metrics: ['visits'],
      date_range: [dayOf(base - 24 * HOUR), dayOf(base + 24 * HOUR)],
      dimensions: ['visit:entry_page', 'visit:exit_page'],
    });
    expect(pages.results).toEqual([{ dimensions: ['/first', '/last'], metrics: [1] }]);
  });

  it('when the same events are sent again, then nothing changes', async () => {
    const site = await system.newSite();
    const person = { ip: '198.51.100.3', ua: IPHONE };
    const events = [pageview('/', 0, person), pageview('/p', MIN, person)];
    await send(site, events);
    const before = await totals(site);
    await send(site, events);
    await send(site, [events[1]!]);
    expect(await totals(site)).toEqual(before);
    expect(before).toEqual([1, 1, 2, 0, 60]);
    const parts = await getVisitPartModel(system.ingestion.mongo).find({ site_id: site.siteId }).lean();
    expect(parts.reduce((sum, p) => sum + p.n, 0)).toBe(2);
  });

  it('when a user_id is sent, then it is the same visitor across days, while an anonymous one is new each day of the site calendar', async () => {
    const site = await system.newSite();
    await configureSite(system, site, { timezone: 'America/New_York' });
    const anonymous = { ip: '192.0.2.50', ua: CHROME };
    const known = { ip: '192.0.2.51', ua: CHROME, user_id: 'alice' };
    // base is 12:00 UTC = 07:00 in New York (EST). +15 h = 03:00 UTC next day = 22:00 the same New York day:
    // UTC midnight is no boundary there. +20 h = 03:00 New York the next day: a new anonymous id.
    await send(site, [
      pageview('/', 0, anonymous),
      pageview('/', 15 * HOUR, anonymous),
      pageview('/', 20 * HOUR, anonymous),
      pageview('/', 0, known),
      pageview('/', 20 * HOUR, known),
    ]);
    const stored = await getRawEventModel(system.ingestion.mongo)
      .find({ site_id: site.siteId })
      .sort({ timestamp: 1 })
      .lean();
    const anon = stored.filter((e) => e.user_id === undefined).map((e) => e.visitor);
    expect(anon[0]).toBe(anon[1]);
    expect(anon[2]).not.toBe(anon[0]);
    // visitors: anonymous day 1, anonymous day 2, alice = 3 over the range; visits: 3 anonymous + 2 of alice
    expect((await totals(site)).slice(0, 3)).toEqual([3, 5, 5]);
  });
});
