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
const post = (body: object) => h.http.post('/sites').set(admin).send(body);
const patch = (siteId: string, body: unknown) =>
  h.http
    .patch(`/sites/${encodeURIComponent(siteId)}`)
    .set(admin)
    .send(body as object);
const stored = (siteId: string) => getSiteModel(h.mongo).collection.findOne({ site_id: siteId });
/** Domain → owning site, as site_domains holds it. */
async function claimsOf(siteId: string): Promise<string[]> {
  const claims = await getSiteDomainModel(h.mongo).find({ site_id: siteId }).lean();
  return claims.map((claim) => claim._id).sort();
}

describe('POST /sites with domains and timezone', () => {
  it('when domains are mixed-case, www., IDN and repeated, then they are stored normalised once each and echoed', async () => {
    const res = await post({
      name: 'Books',
      site_id: 'books',
      domains: ['WWW.Example.COM', 'bücher.de', 'example.com', 'shop.example.com.'],
      timezone: 'Europe/Berlin',
    });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      site_id: 'books',
      domains: ['example.com', 'xn--bcher-kva.de', 'shop.example.com'],
      timezone: 'Europe/Berlin',
    });
    expect(await stored('books')).toMatchObject({
      domains: ['example.com', 'xn--bcher-kva.de', 'shop.example.com'],
      timezone: 'Europe/Berlin',
    });
    expect(await claimsOf('books')).toEqual(['example.com', 'shop.example.com', 'xn--bcher-kva.de']);
  });

  it('when neither is given, then no domains and Etc/UTC', async () => {
    const res = await post({ name: 'Plain', site_id: 'plain' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ domains: [], timezone: 'Etc/UTC' });
    expect(await stored('plain')).toMatchObject({ domains: [], timezone: 'Etc/UTC' });
  });

  it('when a domain belongs to another site, then 409 domain-taken and nothing of the new site is stored', async () => {
    expect((await post({ name: 'Owner', site_id: 'owner-1', domains: ['owned.example'] })).status).toBe(201);

    const res = await post({
      name: 'Thief',
      site_id: 'thief-1',
      domains: ['free.example', 'www.OWNED.example'],
    });

    expect(res.status).toBe(409);
    expectErrorBody(res, { code: 'domain-taken', fields: ['domains'] });
    expect(res.body.details[0].message).toContain('owned.example');
    expect(await stored('thief-1')).toBeNull();
    // the claim it made before finding the conflict was given back
    expect(await claimsOf('thief-1')).toEqual([]);
    expect(await claimsOf('owner-1')).toEqual(['owned.example']);
  });

  it('when the site_id is taken, then 409 site-exists and the domains it claimed are free again', async () => {
    expect((await post({ name: 'First', site_id: 'twice' })).status).toBe(201);
    const res = await post({ name: 'Second', site_id: 'twice', domains: ['second.example'] });
    expect(res.status).toBe(409);
    expectErrorBody(res, { code: 'site-exists' });
    expect(await claimsOf('twice')).toEqual([]);
    expect((await post({ name: 'Third', site_id: 'third', domains: ['second.example'] })).status).toBe(201);
  });

  it('when ten sites are created at once with the same domain, then exactly one gets it and nine get 409', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post({ name: `Race ${i}`, site_id: `race-${i}`, domains: ['race.example'] }),
      ),
    );

    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(9).fill(409)]);
    const winner = answers.find((res) => res.status === 201)!.body.site_id as string;
    const claims = await getSiteDomainModel(h.mongo).find({ _id: 'race.example' }).lean();
    expect(claims.map((claim) => claim.site_id)).toEqual([winner]);
    expect(await getSiteModel(h.mongo).countDocuments({ domains: 'race.example' })).toBe(1);
    expect(await getSiteModel(h.mongo).countDocuments({ site_id: /^race-/ })).toBe(1);
  });

  it('when a domain is held by a claim of a site that was never stored, then a minute later it may be taken over', async () => {
    const claims = getSiteDomainModel(h.mongo);
    const old = new Date(Date.now() - 2 * 60_000);
    // what a create that died between claiming and storing its site leaves behind
    await claims.create({ _id: 'orphan-old.example', site_id: 'never-stored', claimed_at: old });
    await claims.insertOne({
      _id: 'orphan-new.example',
      site_id: 'being-created',
      claimed_at: new Date(),
    } as never);

    const taken = await post({ name: 'Adopter', site_id: 'adopter', domains: ['orphan-old.example'] });
    expect(taken.status).toBe(201);
    expect(await claimsOf('adopter')).toEqual(['orphan-old.example']);
    // a recent claim may belong to a create still under way: it is respected
    const refused = await post({ name: 'Hasty', site_id: 'hasty', domains: ['orphan-new.example'] });
    expect(refused.status).toBe(409);
    expectErrorBody(refused, { code: 'domain-taken' });
  });

  it.each([
    ['a URL', 'domains[0]', { domains: ['https://example.org'] }],
    ['a path', 'domains[1]', { domains: ['ok.example', 'example.org/blog'] }],
    ['a port', 'domains[0]', { domains: ['example.org:8080'] }],
    ['an empty label', 'domains[0]', { domains: ['a..example'] }],
    ['a label starting with a hyphen', 'domains[0]', { domains: ['-a.example'] }],
    ['a number for a domain', 'domains[0]', { domains: [42] }],
    ['a string for the list', 'domains', { domains: 'example.org' }],
    ['21 domains', 'domains', { domains: Array.from({ length: 21 }, (_, i) => `d${i}.example`) }],
    ['an unknown zone', 'timezone', { timezone: 'Mars/Olympus_Mons' }],
    ['an offset for a zone', 'timezone', { timezone: '+05:30' }],
    ['a zone as an object', 'timezone', { timezone: { $ne: '' } }],
  ])('when the body has %s, then 400 naming %s and nothing is stored', async (_case, field, extra) => {
    const siteId = `bad-${field.replace(/\W/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
    const res = await post({ name: 'Bad', site_id: siteId, ...extra });
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: [field] });
    expect(await stored(siteId)).toBeNull();
    expect(await claimsOf(siteId)).toEqual([]);
  });

  it.each(['UTC', 'Etc/UTC', 'Asia/Kathmandu', 'America/New_York', 'Asia/Calcutta'])(
    'when the zone is %s, then it is accepted as sent',
    async (timezone) => {
      const siteId = `zone-${timezone.replace(/\W/g, '-').toLowerCase()}`;
      const res = await post({ name: 'Zone', site_id: siteId, timezone });
      expect(res.status).toBe(201);
      expect((await stored(siteId))?.timezone).toBe(timezone);
    },
  );
});

describe('PATCH /sites/:site_id', () => {
  it('when the admin changes name, domains and timezone, then 200 with the site and the old domain is free', async () => {
    expect(
      (await post({ name: 'Old', site_id: 'patched', domains: ['keep.example', 'drop.example'] })).status,
    ).toBe(201);
    const before = await stored('patched');

    const res = await patch('patched', {
      name: 'New name',
      domains: ['keep.example', 'WWW.Added.Example'],
      timezone: 'Asia/Kolkata',
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      site_id: 'patched',
      name: 'New name',
      domains: ['keep.example', 'added.example'],
      timezone: 'Asia/Kolkata',
      created_at: before!.created_at.toISOString(),
      updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(JSON.stringify(res.body)).not.toContain('key');
    const after = await stored('patched');
    expect(after).toMatchObject({
      name: 'New name',
      domains: ['keep.example', 'added.example'],
      timezone: 'Asia/Kolkata',
    });
    // ingestion's poll picks up changed sites by updated_at
    expect(after!.updated_at.getTime()).toBeGreaterThanOrEqual(before!.updated_at.getTime());
    expect(after!.write_key_hash).toBe(before!.write_key_hash);
    expect(await claimsOf('patched')).toEqual(['added.example', 'keep.example']);
    expect((await post({ name: 'Taker', site_id: 'taker', domains: ['drop.example'] })).status).toBe(201);
  });

  it('when only the timezone changes, then the domains stay as they were', async () => {
    expect((await post({ name: 'Tz', site_id: 'tz-only', domains: ['tz.example'] })).status).toBe(201);
    const res = await patch('tz-only', { timezone: 'America/New_York' });
    expect(res.status).toBe(200);
    expect(await stored('tz-only')).toMatchObject({ domains: ['tz.example'], timezone: 'America/New_York' });
    expect(await claimsOf('tz-only')).toEqual(['tz.example']);
  });

  it('when a new domain belongs to another site, then 409 and the site is unchanged', async () => {
    expect((await post({ name: 'A', site_id: 'patch-a', domains: ['a.example'] })).status).toBe(201);
    expect((await post({ name: 'B', site_id: 'patch-b', domains: ['b.example'] })).status).toBe(201);

    const res = await patch('patch-b', { name: 'B2', domains: ['b.example', 'new-b.example', 'a.example'] });

    expect(res.status).toBe(409);
    expectErrorBody(res, { code: 'domain-taken', fields: ['domains'] });
    expect(await stored('patch-b')).toMatchObject({ name: 'B', domains: ['b.example'] });
    expect(await claimsOf('patch-b')).toEqual(['b.example']);
    expect(await claimsOf('patch-a')).toEqual(['a.example']);
  });

  it.each([
    ['an empty body', '(body)', {}],
    ['an unknown field', 'plan', { plan: 'pro' }],
    ['a key field', 'write_key_hash', { write_key_hash: 'x' }],
    ['an unknown zone', 'timezone', { timezone: 'Europe/Atlantis' }],
    ['a malformed host', 'domains[0]', { domains: ['exa mple.com'] }],
    ['an empty name', 'name', { name: ' ' }],
  ])('when the body has %s, then 400 naming %s and the site is unchanged', async (_case, field, body) => {
    const siteId = `patch-bad-${Math.random().toString(36).slice(2, 8)}`;
    expect((await post({ name: 'Same', site_id: siteId })).status).toBe(201);
    const res = await patch(siteId, body);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: [field] });
    expect(await stored(siteId)).toMatchObject({ name: 'Same', domains: [], timezone: 'Etc/UTC' });
  });

  it('when two sites claim the same new domain at once, then exactly one gets it', async () => {
    for (const id of ['pair-1', 'pair-2']) expect((await post({ name: id, site_id: id })).status).toBe(201);
    const answers = await Promise.all(
      ['pair-1', 'pair-2'].map((id) => patch(id, { domains: ['contested.example'] })),
    );
    expect(answers.map((res) => res.status).sort()).toEqual([200, 409]);
    const winner = answers[0]!.status === 200 ? 'pair-1' : 'pair-2';
    expect(await claimsOf(winner)).toEqual(['contested.example']);
    expect(await getSiteModel(h.mongo).countDocuments({ domains: 'contested.example' })).toBe(1);
  });

  it('when one site is changed by several requests at once, then its stored domains and its claims agree', async () => {
    expect((await post({ name: 'Busy', site_id: 'busy', domains: ['busy-0.example'] })).status).toBe(201);
    const answers = await Promise.all(
      [1, 2, 3, 4].map((i) => patch('busy', { domains: [`busy-${i}.example`, 'busy-shared.example'] })),
    );
    // each lands whole, one after the other, or is told to send again; never a 500
    for (const res of answers) expect([200, 409]).toContain(res.status);
    expect(answers.some((res) => res.status === 200)).toBe(true);
    const site = await stored('busy');
    expect(await claimsOf('busy')).toEqual([...site!.domains!].sort());
  });

  it('when the site does not exist, then 404 and no domain is claimed', async () => {
    const res = await patch('no-such-site', { domains: ['nobody.example'] });
    expect(res.status).toBe(404);
    expectErrorBody(res, { code: 'site-not-found', fields: ['site_id'] });
    expect(await getSiteDomainModel(h.mongo).countDocuments({ _id: 'nobody.example' })).toBe(0);
  });

  it("when the key is missing or the site's own read key, then 401 and the site is unchanged", async () => {
    const created = await post({ name: 'Guarded', site_id: 'patch-guarded' });
    const missing = await h.http.patch('/sites/patch-guarded').send({ name: 'X' });
    expect(missing.status).toBe(401);
    expectErrorBody(missing, { code: 'missing-api-key' });
    const withReadKey = await h.http
      .patch('/sites/patch-guarded')
      .set('authorization', `Bearer ${created.body.read_key}`)
      .send({ name: 'X' });
    expect(withReadKey.status).toBe(401);
    expectErrorBody(withReadKey, { code: 'invalid-api-key' });
    expect(await stored('patch-guarded')).toMatchObject({ name: 'Guarded' });
  });
});
