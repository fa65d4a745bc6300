/**
 * GET /dashboard (contract Part 2): today's totals in the site's zone, active visitors of the last five
 * minutes, today's top custom events and the latest point of the most recent metrics, against what the
 * test sent.
 */
import { Queue } from 'bullmq';
import { getMetricPointModel, metricQueueName } from '@analytics/common';
import { waitFor, type TestSite } from '@analytics/testkit';
import { configureSite } from '../support/query-client';
import { waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

const MIN = 60_000;
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let system: TestSystem;
let metricQueue: Queue;
let site: TestSite;

/** A whole-hour zone where it is around noon now, so "today" holds the last hours whenever this runs. */
function noonZone(): string {
  const offset = 12 - new Date().getUTCHours();
  if (offset === 0) return 'Etc/UTC';
  // Etc/GMT names are sign-inverted: Etc/GMT-5 is UTC+5.
  return `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

beforeAll(async () => {
  system = await startSystem();
  metricQueue = new Queue(metricQueueName(system.env.QUEUE_NAME!), {
    connection: { url: system.env.REDIS_URL!, maxRetriesPerRequest: null },
    prefix: system.env.REDIS_PREFIX,
  });
  site = await system.newSite();
  await configureSite(system, site, { timezone: noonZone() });
});
afterAll(async () => {
  await metricQueue?.close();
  await system?.close();
});

describe('GET /dashboard', () => {
  it('when visitors were active, events tracked and metrics recorded, then the summary says so exactly', async () => {
    const now = Date.now();
    const visitor = (n: number) => ({ ip: `198.51.100.${n}`, user_agent: CHROME });
    const event = (n: number, type: string, minutesAgo: number, path?: string) => ({
      site_id: site.siteId,
      event_type: type,
      ...(path && { path }),
      timestamp: new Date(now - minutesAgo * MIN).toISOString(),
      context: visitor(n),
    });
    const events = [
      // visitors 1 and 2 active in the last 5 minutes; 3 and 4 earlier today
      event(1, 'page_view', 1, '/'),
      event(1, 'signup', 2, '/'),
      event(2, 'page_view', 4, '/pricing'),
      event(3, 'page_view', 40, '/'),
      event(3, 'download', 39, '/docs'),
      event(3, 'download', 38, '/docs'),
      event(4, 'signup', 90),
      event(4, 'page_view', 91, '/a'),
    ];
    const sent = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events });
    expect(sent.status).toBe(202);
    const points = [
      {
        site_id: site.siteId,
        name: 'cart.value',
        value: 10,
        timestamp: new Date(now - 30 * MIN).toISOString(),
      },
      {
        site_id: site.siteId,
        name: 'cart.value',
        value: 42.5,
        timestamp: new Date(now - 3 * MIN).toISOString(),
      },
      {
        site_id: site.siteId,
        name: 'latency',
        value: 120,
        timestamp: new Date(now - 10 * MIN).toISOString(),
      },
    ];
    expect(
      (await system.ingest.post('/metrics').set('x-api-key', site.writeKey).send({ metrics: points })).status,
    ).toBe(202);
    await waitForDrain(system.queue);
    await waitForDrain(metricQueue);
    await waitFor(
      async () =>
        (await getMetricPointModel(system.ingestion.mongo).countDocuments({ site_id: site.siteId })) === 3
          ? true
          : undefined,
      { what: 'the three metric points to be stored' },
    );

    const res = await system.report
      .get(`/dashboard?site_id=${site.siteId}`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      site_id: site.siteId,
      today: { visitors: 4, pageviews: 4, events: 8 },
      active_visitors: 2,
      top_events: [
        { name: 'download', events: 2 },
        { name: 'signup', events: 2 },
      ],
      recent_metrics: [
        { name: 'cart.value', value: 42.5, timestamp: points[1]!.timestamp },
        { name: 'latency', value: 120, timestamp: points[2]!.timestamp },
      ],
    });
  });

  it('when the key is another site’s or the site_id is missing, then 403 and 400', async () => {
    const other = await system.newSite();
    const forbidden = await system.report
      .get(`/dashboard?site_id=${site.siteId}`)
      .set('authorization', `Bearer ${other.readKey}`);
    expect(forbidden.status).toBe(403);
    const missing = await system.report.get('/dashboard').set('authorization', `Bearer ${site.readKey}`);
    expect(missing.status).toBe(400);
    expect(missing.body.details[0].field).toBe('site_id');
  });
});
