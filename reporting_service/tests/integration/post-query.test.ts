import { getVisitPartModel, visitPartId, type VisitPartDocument } from '@analytics/common';
import { insertTestSite, type TestSite } from '@analytics/testkit';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';
import { createSiteRepository } from '../../src/repositories/site.repository';
import { createQueryService } from '../../src/services/query.service';

const ADMIN = 'admin-key-for-tests-0123456789';
let h: ReportingHarness;
let site: TestSite;
let other: TestSite;

/** One page view part, written as the processor would. */
function part(visitor: string, at: string, page: string): VisitPartDocument {
  const b = new Date(Math.floor(Date.parse(at) / 900_000) * 900_000);
  const key = { site_id: site.siteId, visitor, b, name: 'page_view', page };
  return {
    _id: visitPartId(key),
    ...key,
    n: 1,
    ft: new Date(at),
    fi: `${visitor}${at}`,
    f: { device: 'desktop' },
    lt: new Date(at),
    li: `${visitor}${at}`,
  };
}

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY: ADMIN, QUERY_RATE_LIMIT_PER_HOUR: '12' });
  site = await insertTestSite(h.mongo);
  other = await insertTestSite(h.mongo);
  await getVisitPartModel(h.mongo).collection.insertMany([
    part('u:a', '2026-12-01T10:00:00.000Z', '/'),
    part('u:a', '2026-12-01T10:20:00.000Z', '/x'),
    part('u:b', '2026-12-02T10:00:00.000Z', '/'),
  ] as never[]);
});
afterAll(async () => {
  await h?.close();
});

const ask = (body: Record<string, unknown>, key = site.readKey) =>
  h.http.post('/api/v2/query').set('authorization', `Bearer ${key}`).send(body);

describe('POST /api/v2/query', () => {
  it('when asked with the read key, then it answers from the visit parts and echoes the resolved range', async () => {
    const res = await ask({
      site_id: site.siteId,
      metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate'],
      date_range: ['2026-12-01', '2026-12-02'],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ dimensions: [], metrics: [2, 2, 3, 50] }]);
    expect(res.body.query.date_range).toEqual([
      '2026-12-01T00:00:00.000+00:00',
      '2026-12-03T00:00:00.000+00:00',
    ]);
    expect(res.body.meta.documents_read).toBe(3);
  });

  it('when a page is asked for, then rows are ordered and paged with a stable tie-break', async () => {
    const res = await ask({
      site_id: site.siteId,
      metrics: ['visitors'],
      date_range: ['2026-12-01', '2026-12-02'],
      dimensions: ['event:page'],
      include: { total_rows: true },
      pagination: { limit: 1, offset: 1 },
    });
    expect(res.body.results).toEqual([{ dimensions: ['/x'], metrics: [1] }]);
    expect(res.body.meta.total_rows).toBe(2);
  });

  it('when the key is missing, wrong or another site’s, then 401, 401 and 403', async () => {
    expect((await h.http.post('/api/v2/query').send({ site_id: site.siteId })).status).toBe(401);
    expect(
      (await ask({ site_id: site.siteId, metrics: ['visitors'], date_range: '7d' }, 'nope')).status,
    ).toBe(401);
    expect(
      (await ask({ site_id: site.siteId, metrics: ['visitors'], date_range: '7d' }, other.readKey)).status,
    ).toBe(403);
  });

  it('when the body is malformed, then 400 names the field inside it', async () => {
    const res = await ask({
      site_id: site.siteId,
      metrics: ['visitors'],
      date_range: '7d',
      filters: [['is', 'event:page', ['/'], 'extra']],
    });
    expect(res.status).toBe(400);
    expect(res.body.details[0].field).toBe('filters[0]');
    expect(res.body.code).toBe('validation-failed');
    const notJson = await h.http
      .post('/api/v2/query')
      .set('authorization', `Bearer ${site.readKey}`)
      .set('content-type', 'application/json')
      .send('{');
    expect(notJson.status).toBe(400);
  });

  it('when a key asks more than its hourly budget, then 429', async () => {
    const key = other.readKey;
    const statuses: number[] = [];
    for (let i = 0; i < 13; i += 1)
      statuses.push(
        (await ask({ site_id: other.siteId, metrics: ['visitors'], date_range: 'day' }, key)).status,
      );
    expect(statuses.slice(0, 11).every((s) => s === 200)).toBe(true);
    expect(statuses[12]).toBe(429);
  });
});

describe('the query deadline', () => {
  it('when a query runs past QUERY_TIMEOUT_MS, then it answers 503 query-timeout', async () => {
    // A clock that jumps 400 ms per reading: the second read of a 1,000 ms query starts past its deadline.
    let fake = 0;
    const queries = createQueryService(createSiteRepository(h.mongo), h.mongo, {
      timeoutMs: 1000,
      elapsedClock: () => (fake += 400),
    });
    const body = {
      site_id: site.siteId,
      metrics: ['visitors' as const],
      date_range: ['2026-12-01', '2026-12-02'] as [string, string],
      dimensions: [],
      filters: [],
      include: { time_labels: false, total_rows: false, comparisons: { mode: 'previous_period' as const } },
      pagination: { limit: 10, offset: 0 },
    };
    await expect(queries.query(body)).rejects.toMatchObject({ status: 503, code: 'query-timeout' });
    // With a real clock the same query answers.
    const real = createQueryService(createSiteRepository(h.mongo), h.mongo, { timeoutMs: 10_000 });
    expect((await real.query(body)).results).toHaveLength(1);
  });
});
