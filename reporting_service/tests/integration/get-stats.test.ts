import { expectErrorBody } from '../../../tests/support/error-body';
import { insertTestSite, type TestSite } from '@analytics/testkit';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';
let h: ReportingHarness;
let site: TestSite;
let other: TestSite;

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY });
  site = await insertTestSite(h.mongo);
  other = await insertTestSite(h.mongo);
});
afterAll(async () => {
  await h.close();
});

describe('GET /stats: keys', () => {
  it('when no key is sent, then 401', async () => {
    const res = await h.http.get(`/stats?site_id=${site.siteId}`);
    expect(res.status).toBe(401);
    expectErrorBody(res, { code: 'missing-api-key' });
  });

  it('when an unknown key is sent, then 401', async () => {
    const res = await h.http.get(`/stats?site_id=${site.siteId}`).set('authorization', 'Bearer rk_nope');
    expect(res.status).toBe(401);
    expectErrorBody(res, { code: 'invalid-api-key' });
  });

  it('when the write key is sent instead of the read key, then 401', async () => {
    const res = await h.http
      .get(`/stats?site_id=${site.siteId}`)
      .set('authorization', `Bearer ${site.writeKey}`);
    expect(res.status).toBe(401);
  });

  it('when the read key of another site is sent, then 403', async () => {
    const res = await h.http
      .get(`/stats?site_id=${site.siteId}`)
      .set('authorization', `Bearer ${other.readKey}`);
    expect(res.status).toBe(403);
    expectErrorBody(res, { code: 'forbidden', fields: ['site_id'] });
  });

  it('when the site read key comes in x-api-key, then 200 with zeros for a site without events', async () => {
    const res = await h.http
      .get(`/stats?site_id=${site.siteId}&date=2025-11-12`)
      .set('x-api-key', site.readKey);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      site_id: site.siteId,
      date: '2025-11-12',
      total_views: 0,
      unique_users: 0,
      top_paths: [],
    });
  });

  it('when the admin asks for an unknown site, then 404', async () => {
    const res = await h.http
      .get('/stats?site_id=no-such-site')
      .set('authorization', `Bearer ${ADMIN_API_KEY}`);
    expect(res.status).toBe(404);
    expectErrorBody(res, { code: 'site-not-found', fields: ['site_id'] });
  });
});

describe('GET /stats: query', () => {
  it.each([
    ['no site_id', '', 'site_id'],
    ['an operator in site_id', 'site_id[$ne]=x', 'site_id[$ne]'],
    ['site_id twice', `site_id=a&site_id=b`, 'site_id'],
    ['a bad date', 'date=2025-13-01', 'date'],
    ['an impossible date', 'date=2025-02-30', 'date'],
    ['a date with a time', 'date=2025-02-03T00:00:00Z', 'date'],
    ['from without to', 'from=2025-01-01', 'to'],
    ['date with from and to', 'date=2025-01-01&from=2025-01-01&to=2025-01-02', 'date'],
    ['from after to', 'from=2025-01-02&to=2025-01-01', 'from'],
    ['367 days', 'from=2024-01-01&to=2025-01-01', 'to'],
    ['an unknown parameter', 'tz=UTC', 'tz'],
  ])('when the query has %s, then 400', async (_case, query, field) => {
    const separator = query.startsWith('site_id') ? '' : `site_id=${site.siteId}&`;
    const res = await h.http
      .get(`/stats?${query === '' ? '' : separator}${query}`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed' });
    const fields = (res.body.details as { field: string }[]).map((d) => d.field);
    expect(fields).toContain(field);
  });

  it('when the range spans exactly 366 days, then 200 with from and to', async () => {
    const res = await h.http
      .get(`/stats?site_id=${site.siteId}&from=2024-01-01&to=2024-12-31`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ from: '2024-01-01', to: '2024-12-31', total_views: 0 });
  });
});
