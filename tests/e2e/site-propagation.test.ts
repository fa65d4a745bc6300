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
