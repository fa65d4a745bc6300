import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';
const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
let h: ReportingHarness;

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY });
});
afterAll(async () => {
  await h.close();
});

describe('GET /admin/queues', () => {
  it('when no key or a wrong one is sent, then 401 asking the browser for Basic credentials', async () => {
    const site = await h.http.post('/sites').set(admin).send({ name: 'board', site_id: 'board' });
    for (const headers of [
      {},
      { authorization: `Bearer ${(site.body as { read_key: string }).read_key}` },
      basic('admin', 'not-the-admin-key-at-all'),
    ]) {
      const res = await h.http.get('/admin/queues').set(headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
      expect(res.text).not.toContain('<html');
    }
    expect((await h.http.get('/admin/queues/api/queues').set(basic('x', 'y'))).status).toBe(401);
  });

  it('when the admin key is the Bearer token or the Basic password, then the board with its own CSP and its assets', async () => {
    for (const headers of [admin, basic('anyone', ADMIN_API_KEY)]) {
      const res = await h.http.get('/admin/queues').set(headers);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const csp = res.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(res.text)?.[1];
      expect(script).toBeDefined();
      const asset = await h.http.get(`/admin/queues/${script}`).set(headers);
      expect(asset.status).toBe(200);
      expect(asset.headers['content-type']).toMatch(/javascript/);
    }
    // The other endpoints keep helmet's default policy.
    const health = await h.http.get('/health');
    expect(health.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('when jobs wait in the events queue, then the API lists the queue read-only with its counts, and refuses every change', async () => {
    await h.queue.add('ingest-events', { v: 2, requests: [] });
    await h.queue.add('ingest-events', { v: 2, requests: [] });
    const res = await h.http.get('/admin/queues/api/queues?activeQueue=&page=1&jobsPerPage=10').set(admin);
    expect(res.status).toBe(200);
    const queues = (
      res.body as { queues: { name: string; readOnlyMode: boolean; counts: { waiting: number } }[] }
    ).queues;
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatchObject({ name: h.config.queueName, readOnlyMode: true, counts: { waiting: 2 } });

    for (const [method, path] of [
      ['put', `/admin/queues/api/queues/${h.config.queueName}/retry/failed`],
      ['put', `/admin/queues/api/queues/${h.config.queueName}/clean/waiting`],
      ['put', `/admin/queues/api/queues/${h.config.queueName}/empty`],
      ['post', `/admin/queues/api/queues/${h.config.queueName}/add`],
    ] as const) {
      const change = await h.http[method](path).set(admin).send({});
      expect(change.status).toBe(405);
    }
    expect(await h.queue.getWaitingCount()).toBe(2);
  });
});
