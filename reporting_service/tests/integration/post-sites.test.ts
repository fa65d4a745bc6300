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
      domains: [],
      timezone: 'Etc/UTC',
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

  it('when MongoDB answers, then /health/ready is 200 with the same check and /health/live 200', async () => {
    const ready = await h.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { mongodb: 'ok' } });
    const live = await h.http.get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
  });
});

interface CreatedSite {
  site_id: string;
  write_key: string;
  read_key: string;
}

async function createSite(siteId: string): Promise<CreatedSite> {
  const res = await h.http
    .post('/sites')
    .set('authorization', `Bearer ${ADMIN_API_KEY}`)
    .send({ name: siteId, site_id: siteId });
  expect(res.status).toBe(201);
  return res.body as CreatedSite;
}

const rotate = (siteId: string, body: unknown, key = ADMIN_API_KEY) =>
  h.http
    .post(`/sites/${encodeURIComponent(siteId)}/keys`)
    .set('authorization', `Bearer ${key}`)
    .send(body as object);

const statsWith = (siteId: string, readKey: string) =>
  h.http.get('/stats').query({ site_id: siteId }).set('authorization', `Bearer ${readKey}`);

const stored = (siteId: string) => getSiteModel(h.mongo).collection.findOne({ site_id: siteId });

describe('POST /sites/:site_id/keys', () => {
  it('when the admin replaces the write key, then 200 with only the new write key; the read key keeps working', async () => {
    const site = await createSite('rotate-write');
    const before = await stored(site.site_id);

    const res = await rotate(site.site_id, { keys: 'write' });

    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      site_id: site.site_id,
      write_key: expect.stringMatching(/^wk_[A-Za-z0-9_-]{43}$/),
      rotated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(res.body.write_key).not.toBe(site.write_key);
    const after = await stored(site.site_id);
    expect(after).toMatchObject({
      write_key_hash: hashKey(res.body.write_key),
      read_key_hash: hashKey(site.read_key),
      created_at: before!.created_at,
    });
    // ingestion's poll picks up sites by updated_at
    expect(after!.updated_at.getTime()).toBe(new Date(res.body.rotated_at).getTime());
    expect(after!.updated_at.getTime()).toBeGreaterThanOrEqual(before!.updated_at.getTime());
    expect((await statsWith(site.site_id, site.read_key)).status).toBe(200);
  });

  it('when the admin replaces the read key, then the old read key gets 401 and the new one 200', async () => {
    const site = await createSite('rotate-read');

    const res = await rotate(site.site_id, { keys: 'read' });

    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['read_key', 'rotated_at', 'site_id']);
    expect(await stored(site.site_id)).toMatchObject({
      write_key_hash: hashKey(site.write_key),
      read_key_hash: hashKey(res.body.read_key),
    });
    const old = await statsWith(site.site_id, site.read_key);
    expect(old.status).toBe(401);
    expectErrorBody(old, { code: 'invalid-api-key' });
    expect((await statsWith(site.site_id, res.body.read_key)).status).toBe(200);
  });

  it('when both are replaced twice, then only the last pair is stored (a lost pair is recovered this way)', async () => {
    const site = await createSite('rotate-both');
    const first = await rotate(site.site_id, { keys: 'both' });
    const second = await rotate(site.site_id, { keys: 'both' });

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const keys = [site, first.body as CreatedSite, second.body as CreatedSite];
    expect(new Set(keys.flatMap((k) => [k.write_key, k.read_key])).size).toBe(6);
    expect(await stored(site.site_id)).toMatchObject({
      write_key_hash: hashKey(second.body.write_key),
      read_key_hash: hashKey(second.body.read_key),
    });
    expect(await getSiteModel(h.mongo).countDocuments({ site_id: site.site_id })).toBe(1);
  });

  it('when the site does not exist, then 404 site-not-found and nothing is created', async () => {
    const res = await rotate('no-such-site', { keys: 'both' });
    expect(res.status).toBe(404);
    expectErrorBody(res, { code: 'site-not-found', fields: ['site_id'] });
    expect(await stored('no-such-site')).toBeNull();
  });

  it.each([
    ['no keys field', 'keys', {}],
    ['an unknown value', 'keys', { keys: 'all' }],
    ['an extra field', 'name', { keys: 'write', name: 'x' }],
  ])('when the body has %s, then 400 naming %s and the keys are unchanged', async (_case, field, body) => {
    const site = await createSite(`rotate-bad-${field}-${Object.keys(body).length}`);
    const res = await rotate(site.site_id, body);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: [field] });
    expect(await stored(site.site_id)).toMatchObject({ write_key_hash: hashKey(site.write_key) });
  });

  it('when the body has an own __proto__ key, then 400 naming it and the keys are unchanged', async () => {
    const site = await createSite('rotate-proto');
    const res = await h.http
      .post(`/sites/${site.site_id}/keys`)
      .set('authorization', `Bearer ${ADMIN_API_KEY}`)
      .set('content-type', 'application/json')
      .send('{"keys":"both","__proto__":{"polluted":1}}');
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: ['__proto__'] });
    expect(await stored(site.site_id)).toMatchObject({
      write_key_hash: hashKey(site.write_key),
      read_key_hash: hashKey(site.read_key),
    });
  });

  it('when the site_id in the path is not a valid id, then 400 naming site_id', async () => {
    const res = await rotate('bad id!', { keys: 'both' });
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: ['site_id'] });
  });

  it("when the key is the site's own read key or missing, then 401 and the keys are unchanged", async () => {
    const site = await createSite('rotate-auth');
    const withReadKey = await rotate(site.site_id, { keys: 'both' }, site.read_key);
    expect(withReadKey.status).toBe(401);
    expectErrorBody(withReadKey, { code: 'invalid-api-key' });
    const without = await h.http.post(`/sites/${site.site_id}/keys`).send({ keys: 'both' });
    expect(without.status).toBe(401);
    expectErrorBody(without, { code: 'missing-api-key' });
    expect(await stored(site.site_id)).toMatchObject({
      write_key_hash: hashKey(site.write_key),
      read_key_hash: hashKey(site.read_key),
    });
  });
});
