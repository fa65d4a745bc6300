import { getSiteDomainModel, getSiteModel } from '@analytics/common';
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

const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface CreatedSite {
  site_id: string;
  write_key: string;
  read_key: string;
}

async function createSite(siteId: string, extra: object = {}): Promise<CreatedSite> {
  const res = await h.http
    .post('/sites')
    .set(admin)
    .send({ name: `Site ${siteId}`, site_id: siteId, ...extra });
  expect(res.status).toBe(201);
  return res.body as CreatedSite;
}

describe('GET /sites/:site_id', () => {
  it('when the site reads itself with its read key, then 200 with its settings and no key', async () => {
    const site = await createSite('show-me', { domains: ['show.example'], timezone: 'Asia/Kathmandu' });

    const res = await h.http.get('/sites/show-me').set(bearer(site.read_key));

    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.body).toEqual({
      site_id: 'show-me',
      name: 'Site show-me',
      domains: ['show.example'],
      timezone: 'Asia/Kathmandu',
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    const stored = await getSiteModel(h.mongo).collection.findOne({ site_id: 'show-me' });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(stored!.write_key_hash);
    expect(text).not.toContain(stored!.read_key_hash);
  });

  it('when the admin key reads it, then 200; a site stored before domains existed shows none and Etc/UTC', async () => {
    const now = new Date();
    await getSiteModel(h.mongo).collection.insertOne({
      site_id: 'legacy',
      name: 'Legacy',
      write_key_hash: 'a'.repeat(64),
      read_key_hash: 'b'.repeat(64),
      created_at: now,
      updated_at: now,
    });
    const res = await h.http.get('/sites/legacy').set(admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ site_id: 'legacy', domains: [], timezone: 'Etc/UTC' });
  });

  it("when another site's read key is used, then 403; without a key 401; an unknown site 404", async () => {
    const mine = await createSite('mine');
    await createSite('theirs');

    const other = await h.http.get('/sites/theirs').set(bearer(mine.read_key));
    expect(other.status).toBe(403);
    expectErrorBody(other, { code: 'forbidden', fields: ['site_id'] });
    const none = await h.http.get('/sites/theirs');
    expect(none.status).toBe(401);
    expectErrorBody(none, { code: 'missing-api-key' });
    const wrong = await h.http.get('/sites/theirs').set(bearer('rk_not-a-key'));
    expect(wrong.status).toBe(401);
    expectErrorBody(wrong, { code: 'invalid-api-key' });
    const unknown = await h.http.get('/sites/nobody-here').set(admin);
    expect(unknown.status).toBe(404);
    expectErrorBody(unknown, { code: 'site-not-found', fields: ['site_id'] });
  });
});

describe('GET /sites', () => {
  it('when the admin lists in pages, then every live site comes once in site_id order, without keys', async () => {
    const ids = ['list-c', 'list-a', 'list-e', 'list-b', 'list-d'];
    for (const id of ids) await createSite(id);
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 20; page += 1) {
      const res = await h.http
        .get('/sites')
        .query({ limit: 2, ...(after && { after }) })
        .set(admin);
      expect(res.status).toBe(200);
      expect(res.body.sites.length).toBeLessThanOrEqual(2);
      for (const site of res.body.sites) {
        expect(Object.keys(site).sort()).toEqual([
          'created_at',
          'domains',
          'name',
          'site_id',
          'timezone',
          'updated_at',
        ]);
        seen.push(site.site_id);
      }
      if (res.body.next_after === null) break;
      after = res.body.next_after;
    }
    const live = (
      await getSiteModel(h.mongo)
        .find({ deleted_at: { $exists: false } })
        .lean()
    ).map((s) => s.site_id);
    expect(seen).toEqual([...live].sort());
    expect(seen).toEqual(expect.arrayContaining(ids));
  });

  it.each([
    ['a limit of 0', 'limit', { limit: '0' }],
    ['a limit over 500', 'limit', { limit: '501' }],
    ['an after that is not a site id', 'after', { after: 'a/b' }],
    ['an unknown parameter', 'page', { page: '2' }],
  ])('when the query has %s, then 400 naming %s', async (_case, field, query) => {
    const res = await h.http.get('/sites').query(query).set(admin);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: [field] });
  });

  it("when the key is a site's read key or missing, then 401", async () => {
    const site = await createSite('list-reader');
    const withReadKey = await h.http.get('/sites').set(bearer(site.read_key));
    expect(withReadKey.status).toBe(401);
    expectErrorBody(withReadKey, { code: 'invalid-api-key' });
    expect((await h.http.get('/sites')).status).toBe(401);
  });
});

describe('DELETE /sites/:site_id', () => {
  it('when the admin deletes a site, then 202, it is gone for every reader at once and its domains are free', async () => {
    const site = await createSite('doomed', { domains: ['doomed.example'] });
    const before = await getSiteModel(h.mongo).collection.findOne({ site_id: 'doomed' });

    const res = await h.http.delete('/sites/doomed').set(admin);

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ site_id: 'doomed', deleted_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    const marked = await getSiteModel(h.mongo).collection.findOne({ site_id: 'doomed' });
    // kept, marked, until the cron service has removed its data; updated_at moves so ingestion drops it
    expect(marked!.deleted_at).toEqual(new Date(res.body.deleted_at));
    expect(marked!.updated_at.getTime()).toBeGreaterThanOrEqual(before!.updated_at.getTime());
    expect(await getSiteDomainModel(h.mongo).countDocuments({ site_id: 'doomed' })).toBe(0);

    expect((await h.http.get('/sites/doomed').set(admin)).status).toBe(404);
    expect((await h.http.get('/sites/doomed').set(bearer(site.read_key))).status).toBe(401);
    const stats = await h.http.get('/stats').query({ site_id: 'doomed' }).set(admin);
    expect(stats.status).toBe(404);
    const listed = await h.http.get('/sites').query({ limit: 500 }).set(admin);
    expect(listed.body.sites.map((s: { site_id: string }) => s.site_id)).not.toContain('doomed');
    expect((await h.http.patch('/sites/doomed').set(admin).send({ name: 'x' })).status).toBe(404);
    expect((await h.http.post('/sites/doomed/keys').set(admin).send({ keys: 'both' })).status).toBe(404);
    // another site may take its domain at once; its id stays taken until the data is gone
    await createSite('heir', { domains: ['doomed.example'] });
    const again = await h.http.post('/sites').set(admin).send({ name: 'Again', site_id: 'doomed' });
    expect(again.status).toBe(409);
    expectErrorBody(again, { code: 'site-exists' });
  });

  it('when it is deleted twice, then the second answers 404', async () => {
    await createSite('deleted-twice');
    expect((await h.http.delete('/sites/deleted-twice').set(admin)).status).toBe(202);
    const second = await h.http.delete('/sites/deleted-twice').set(admin);
    expect(second.status).toBe(404);
    expectErrorBody(second, { code: 'site-not-found', fields: ['site_id'] });
  });

  it("when the key is the site's read key or missing, then 401 and the site stays", async () => {
    const site = await createSite('kept');
    const withReadKey = await h.http.delete('/sites/kept').set(bearer(site.read_key));
    expect(withReadKey.status).toBe(401);
    expectErrorBody(withReadKey, { code: 'invalid-api-key' });
    const without = await h.http.delete('/sites/kept');
    expect(without.status).toBe(401);
    expectErrorBody(without, { code: 'missing-api-key' });
    const stored = await getSiteModel(h.mongo).collection.findOne({ site_id: 'kept' });
    expect(stored!.deleted_at).toBeUndefined();
  });

  it('when the site_id is not a valid id, then 400 naming site_id', async () => {
    const res = await h.http.delete('/sites/bad%20id!').set(admin);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: ['site_id'] });
  });
});
