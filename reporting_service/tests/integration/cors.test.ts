import { insertTestSite, type TestSite } from '@analytics/testkit';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';
import { loadConfig } from '../../src/config';

const DASHBOARD = 'https://dash.example.com';

describe('CORS on the read endpoints', () => {
  let h: ReportingHarness;
  let site: TestSite;
  beforeAll(async () => {
    h = await startReportingHarness({ CORS_ORIGINS: `${DASHBOARD}, http://localhost:8080` });
    site = await insertTestSite(h.mongo);
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a listed origin preflights GET /stats with Authorization, then it is allowed', async () => {
    const res = await h.http
      .options('/stats')
      .set('Origin', DASHBOARD)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(DASHBOARD);
    expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('authorization');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('when a listed origin reads /stats with a read key, then the answer carries its origin', async () => {
    const res = await h.http
      .get('/stats')
      .query({ site_id: site.siteId })
      .set('Origin', DASHBOARD)
      .set('Authorization', `Bearer ${site.readKey}`);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(DASHBOARD);
  });

  it('when a listed origin reads GET /sites/:site_id, then it is allowed; an administration preflight (PATCH) is not', async () => {
    const read = await h.http
      .get(`/sites/${site.siteId}`)
      .set('Origin', DASHBOARD)
      .set('Authorization', `Bearer ${site.readKey}`);
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe(DASHBOARD);
    const preflight = await h.http
      .options(`/sites/${site.siteId}`)
      .set('Origin', DASHBOARD)
      .set('Access-Control-Request-Method', 'PATCH');
    expect(preflight.headers['access-control-allow-methods'] ?? '').not.toContain('PATCH');
  });

  it('when an origin that is not listed asks, then no CORS header allows it', async () => {
    const res = await h.http
      .get('/stats')
      .query({ site_id: site.siteId })
      .set('Origin', 'https://evil.example')
      .set('Authorization', `Bearer ${site.readKey}`);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS_ORIGINS', () => {
  it('when unset, then no origin is allowed; when malformed, then the start fails naming the variable', () => {
    expect(loadConfig({ PORT: '0' }).corsOrigins).toEqual([]);
    expect(
      loadConfig({ PORT: '0', CORS_ORIGINS: 'https://a.example,http://b.example:81' }).corsOrigins,
    ).toEqual(['https://a.example', 'http://b.example:81']);
    expect(() => loadConfig({ PORT: '0', CORS_ORIGINS: 'https://a.example/dashboard' })).toThrow(
      /CORS_ORIGINS/,
    );
    expect(() => loadConfig({ PORT: '0', CORS_ORIGINS: 'not an origin' })).toThrow(/CORS_ORIGINS/);
  });

  it('when no origin is listed, then a browser on another origin gets no CORS header', async () => {
    const h = await startReportingHarness({});
    try {
      const res = await h.http
        .options('/stats')
        .set('Origin', DASHBOARD)
        .set('Access-Control-Request-Method', 'GET');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
