import { waitFor } from '@analytics/testkit';
import {
  startIngestionHarness,
  type IngestionHarness,
} from '../../ingestion_service/tests/fixtures/ingestion-harness';
import {
  startReportingHarness,
  type ReportingHarness,
} from '../../reporting_service/tests/fixtures/reporting-harness';

let ingestion: IngestionHarness;
let reporting: ReportingHarness;

beforeAll(async () => {
  // Both services on the same database, with the default refresh interval of ingestion.
  ingestion = await startIngestionHarness({ SITE_REFRESH_INTERVAL_MS: '2000' });
  reporting = await startReportingHarness({ MONGODB_URI: ingestion.config.mongodbUri });
});
afterAll(async () => {
  await ingestion.close();
  await reporting.close();
});

describe('a site created through POST /sites', () => {
  it('when ingestion is already running, then its write key is accepted within 5 s with no restart', async () => {
    const created = await reporting.http.post('/sites').send({ name: 'Fresh' });
    expect(created.status).toBe(201);
    const createdAt = Date.now();
    const event = { site_id: created.body.site_id, event_type: 'page_view', path: '/' };

    const first = await ingestion.http.post('/event').set('x-api-key', created.body.write_key).send(event);
    // Straight after creation the key may not be known yet: 401, never anything else.
    expect([202, 401]).toContain(first.status);

    const accepted = await waitFor(
      async () => {
        const res = await ingestion.http.post('/event').set('x-api-key', created.body.write_key).send(event);
        return res.status === 202 ? res : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'the new site to be accepted' },
    );
    expect(Date.now() - createdAt).toBeLessThan(5000);
    const events = await ingestion.enqueuedEvents();
    expect(events.map((e) => e.event_id)).toContain(accepted.body.event_id);
  });
});

describe('a write key replaced through POST /sites/:site_id/keys', () => {
  it('when ingestion is already running, then within 5 s the old key gets 401 and the new one 202', async () => {
    const created = await reporting.http.post('/sites').send({ name: 'Rotated' });
    expect(created.status).toBe(201);
    const siteId = created.body.site_id as string;
    const event = { site_id: siteId, event_type: 'page_view', path: '/' };
    const send = (key: string) => ingestion.http.post('/event').set('x-api-key', key).send(event);
    await waitFor(async () => ((await send(created.body.write_key)).status === 202 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the new site to be accepted',
    });

    const rotated = await reporting.http.post(`/sites/${siteId}/keys`).send({ keys: 'write' });
    expect(rotated.status).toBe(200);
    const rotatedAt = Date.now();

    await waitFor(async () => ((await send(created.body.write_key)).status === 401 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the old write key to be refused',
    });
    expect(Date.now() - rotatedAt).toBeLessThan(5000);
    const accepted = await send(rotated.body.write_key);
    expect(accepted.status).toBe(202);
    const events = await ingestion.enqueuedEvents();
    expect(events.map((e) => e.event_id)).toContain(accepted.body.event_id);
  });
});

describe('domains and timezone changed through POST and PATCH /sites', () => {
  it("when ingestion is already running, then within 5 s its site view holds the site's domains and zone, and finds it by domain", async () => {
    const created = await reporting.http
      .post('/sites')
      .send({ name: 'Zoned', domains: ['WWW.Zoned.Example'], timezone: 'Asia/Kathmandu' });
    expect(created.status).toBe(201);
    const siteId = created.body.site_id as string;
    const sites = ingestion.service.sites;
    await waitFor(async () => (sites.settingsOf(siteId) ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the new site in the site view',
    });
    expect(sites.settingsOf(siteId)).toEqual({
      siteId,
      domains: ['zoned.example'],
      timezone: 'Asia/Kathmandu',
    });
    expect(sites.siteForDomain('zoned.example')).toBe(siteId);

    const patched = await reporting.http
      .patch(`/sites/${siteId}`)
      .send({ domains: ['moved.example'], timezone: 'America/New_York' });
    expect(patched.status).toBe(200);
    const patchedAt = Date.now();

    await waitFor(
      async () => (sites.settingsOf(siteId)?.timezone === 'America/New_York' ? true : undefined),
      {
        timeoutMs: 5000,
        intervalMs: 100,
        what: 'the changed zone in the site view',
      },
    );
    expect(Date.now() - patchedAt).toBeLessThan(5000);
    expect(sites.settingsOf(siteId)?.domains).toEqual(['moved.example']);
    expect(sites.siteForDomain('moved.example')).toBe(siteId);
    expect(sites.siteForDomain('zoned.example')).toBeUndefined();
  });
});

describe('a site deleted through DELETE /sites/:site_id', () => {
  it('when ingestion is already running, then within 5 s its write key gets 401 and its domain finds no site', async () => {
    const created = await reporting.http
      .post('/sites')
      .send({ name: 'Doomed', domains: ['doomed-e2e.example'] });
    expect(created.status).toBe(201);
    const siteId = created.body.site_id as string;
    const event = { site_id: siteId, event_type: 'page_view', path: '/' };
    const send = () => ingestion.http.post('/event').set('x-api-key', created.body.write_key).send(event);
    await waitFor(async () => ((await send()).status === 202 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'the new site to be accepted',
    });

    const deleted = await reporting.http.delete(`/sites/${siteId}`);
    expect(deleted.status).toBe(202);
    const deletedAt = Date.now();

    await waitFor(async () => ((await send()).status === 401 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
      what: "the deleted site's key to be refused",
    });
    expect(Date.now() - deletedAt).toBeLessThan(5000);
    expect(ingestion.service.sites.settingsOf(siteId)).toBeUndefined();
    expect(ingestion.service.sites.siteForDomain('doomed-e2e.example')).toBeUndefined();
  });
});
