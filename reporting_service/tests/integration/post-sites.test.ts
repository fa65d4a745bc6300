import { getSiteModel, hashKey } from '@analytics/common';
import { expectErrorBody } from '../../../tests/support/error-body';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';
let h: ReportingHarness;

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY });
});
afterAll(async () => {
  await h.close();
});

describe('POST /sites', () => {
  it('when the admin creates a site with a custom id, then 201 with both keys, stored only as digests', async () => {
    const res = await h.http
      .post('/sites')
      .set('authorization', `Bearer ${ADMIN_API_KEY}`)
      .send({ name: 'Shop', site_id: 'shop.example-1' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      site_id: 'shop.example-1',
      name: 'Shop',
      write_key: expect.stringMatching(/^wk_[A-Za-z0-9_-]{43}$/),
      read_key: expect.stringMatching(/^rk_[A-Za-z0-9_-]{43}$/),
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(res.body.write_key).not.toBe(res.body.read_key);

    const stored = await getSiteModel(h.mongo).collection.findOne({ site_id: 'shop.example-1' });
    expect(stored).toMatchObject({
      name: 'Shop',
      write_key_hash: hashKey(res.body.write_key),
      read_key_hash: hashKey(res.body.read_key),
    });
    // No field of the stored document holds either key in clear.
    const text = JSON.stringify(stored);
    expect(text).not.toContain(res.body.write_key);
    expect(text).not.toContain(res.body.read_key);
  });

  it('when no site_id is given, then one is generated; the x-api-key header works for the admin too', async () => {
    const res = await h.http.post('/sites').set('x-api-key', ADMIN_API_KEY).send({ name: 'Blog' });
    expect(res.status).toBe(201);
    expect(res.body.site_id).toMatch(/^site-[a-z0-9]{12}$/);
    expect(await getSiteModel(h.mongo).countDocuments({ site_id: res.body.site_id })).toBe(1);
  });

  it('when the site_id is taken, then 409 and the first site is unchanged', async () => {
    const first = await h.http
      .post('/sites')
      .set('authorization', `Bearer ${ADMIN_API_KEY}`)
      .send({ name: 'One', site_id: 'taken' });
    expect(first.status).toBe(201);
    const second = await h.http
      .post('/sites')
      .set('authorization', `Bearer ${ADMIN_API_KEY}`)
      .send({ name: 'Two', site_id: 'taken' });
    expect(second.status).toBe(409);
    expectErrorBody(second, { code: 'site-exists' });
    const stored = await getSiteModel(h.mongo).find({ site_id: 'taken' }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.write_key_hash).toBe(hashKey(first.body.write_key));
  });

  it.each([
    ['no name', { site_id: 'x1' }, 'name'],
    ['an empty name', { name: '  ' }, 'name'],
    ['a site_id with a slash', { name: 'A', site_id: 'a/b' }, 'site_id'],
    ['a site_id as an operator object', { name: 'A', site_id: { $gt: '' } }, 'site_id'],
    ['an unknown field', { name: 'A', plan: 'pro' }, 'plan'],
  ])('when the body has %s, then 400 naming %s', async (_case, body, field) => {
    const res = await h.http.post('/sites').set('authorization', `Bearer ${ADMIN_API_KEY}`).send(body);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed' });
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('when the admin key is missing or wrong, then 401 and nothing is stored', async () => {
    const before = await getSiteModel(h.mongo).countDocuments({});
    const missing = await h.http.post('/sites').send({ name: 'X' });
    expect(missing.status).toBe(401);
    expectErrorBody(missing, { code: 'missing-api-key' });
    const wrong = await h.http.post('/sites').set('authorization', 'Bearer nope').send({ name: 'X' });
    expect(wrong.status).toBe(401);
    expectErrorBody(wrong, { code: 'invalid-api-key' });
    expect(await getSiteModel(h.mongo).countDocuments({})).toBe(before);
  });

  it('when the content type is not JSON, then 415', async () => {
    const res = await h.http
      .post('/sites')
      .set('authorization', `Bearer ${ADMIN_API_KEY}`)
      .set('content-type', 'text/plain')
      .send('{"name":"x"}');
    expect(res.status).toBe(415);
    expectErrorBody(res, { code: 'unsupported-content-type' });
  });
});

describe('GET /health', () => {
  it('when MongoDB answers, then 200 with the mongodb check', async () => {
    const res = await h.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      checks: { mongodb: 'ok' },
      runtime: expect.objectContaining({ rss_bytes: expect.any(Number) }),
    });
  });
});
