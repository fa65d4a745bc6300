import { Queue } from 'bullmq';
import {
  getRawEventModel,
  getRollupModel,
  getVisitPartModel,
  getSiteDomainModel,
  getSiteModel,
  getWriteManifestModel,
} from '@analytics/common';
import { waitFor } from '@analytics/testkit';
import { waitForDrain } from '../../../tests/support/recount';
import { ADMIN_API_KEY, startSystem, type TestSystem } from '../../../tests/support/system';
import { cronQueueName, loadConfig } from '../../src/config';
import { startCron, type CronService } from '../../src/service';

interface CreatedSite {
  site_id: string;
  write_key: string;
  read_key: string;
}

const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };

describe('DELETE /sites/:site_id, then the site-deletion job', () => {
  let system: TestSystem;
  let cron: CronService | undefined;

  beforeEach(async () => {
    system = await startSystem();
  });
  afterEach(async () => {
    for (const closer of cron?.closers ?? []) await closer.close();
    cron = undefined;
    const cronQueue = new Queue(cronQueueName({ queueName: system.env.QUEUE_NAME! }), {
      connection: { url: system.env.REDIS_URL!, maxRetriesPerRequest: null },
      prefix: system.env.REDIS_PREFIX,
    });
    await cronQueue.obliterate({ force: true }).catch(() => undefined);
    await cronQueue.close();
    await system.close();
  });

  async function createSite(siteId: string, domains: string[]): Promise<CreatedSite> {
    const res = await system.report
      .post('/sites')
      .set(admin)
      .send({ name: siteId, site_id: siteId, domains });
    expect(res.status).toBe(201);
    return res.body as CreatedSite;
  }

  /** Page views over a few paths and users, through ingestion and the processor; one write per site. */
  async function sendEvents(site: CreatedSite, count: number): Promise<void> {
    const events = Array.from({ length: count }, (_, i) => ({
      site_id: site.site_id,
      event_id: `${site.site_id}-${i}`,
      event_type: i % 4 === 3 ? 'signup' : 'page_view',
      path: `/p${i % 3}`,
      user_id: `u${i % 5}`,
      timestamp: new Date(Date.now() - i * 60_000).toISOString(),
    }));
    const res = await system.ingest.post('/events').set('x-api-key', site.write_key).send({ events });
    expect(res.status).toBe(202);
    await waitForDrain(system.queue);
  }

  const mongo = () => system.ingestion.mongo;
  async function dataOf(siteId: string) {
    const manifests = await getWriteManifestModel(mongo()).find({}).lean();
    return {
      events: await getRawEventModel(mongo()).countDocuments({ site_id: siteId }),
      rollups: await getRollupModel(mongo()).countDocuments({ site_id: siteId }),
      visitParts: await getVisitPartModel(mongo()).countDocuments({ site_id: siteId }),
      manifests: manifests.filter(
        (m) =>
          m.views.some((v) => v.site_id === siteId) ||
          m.users.some((u) => u.site_id === siteId) ||
          (m.visits ?? []).some((v) => v.site_id === siteId),
      ).length,
      sites: await getSiteModel(mongo()).countDocuments({ site_id: siteId }),
      domains: await getSiteDomainModel(mongo()).countDocuments({ site_id: siteId }),
    };
  }

  it("when a site is deleted, then within a minute its events, rollups, manifests and document are gone and another site's data stays", async () => {
    const doomed = await createSite('doomed', ['doomed.example']);
    const kept = await createSite('kept', ['kept.example']);
    await system.ingestion.sites.refresh();
    await sendEvents(doomed, 24);
    await sendEvents(kept, 16);
    const keptBefore = await dataOf('kept');
    const doomedBefore = await dataOf('doomed');
    expect(doomedBefore).toMatchObject({ events: 24, sites: 1, domains: 1 });
    expect(doomedBefore.rollups).toBeGreaterThan(0);
    expect(doomedBefore.visitParts).toBeGreaterThan(0);
    expect(doomedBefore.manifests).toBeGreaterThan(0);
    expect(keptBefore).toMatchObject({ events: 16, sites: 1, domains: 1 });
    const keptStats = await system.report
      .get('/stats')
      .query({ site_id: 'kept' })
      .set('authorization', `Bearer ${kept.read_key}`);
    expect(keptStats.body.total_views).toBe(12);

    const deleted = await system.report.delete('/sites/doomed').set(admin);
    expect(deleted.status).toBe(202);
    const deletedAt = Date.now();
    // ingestion refuses the key once its view has refreshed
    await system.ingestion.sites.refresh();
    const refused = await system.ingest
      .post('/event')
      .set('x-api-key', doomed.write_key)
      .send({ site_id: 'doomed', event_type: 'page_view', path: '/late' });
    expect(refused.status).toBe(401);

    // The cron service starts only now: the deletion mark is the durable record it works from.
    cron = await startCron(
      loadConfig({ ...system.env, SITE_DELETION_INTERVAL_MS: '1000', SITE_DELETION_SETTLE_MS: '2000' }),
    );
    await waitFor(
      async () => {
        const left = await dataOf('doomed');
        return Object.values(left).every((n) => n === 0) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "the deleted site's data to be removed" },
    );
    expect(Date.now() - deletedAt).toBeLessThan(60_000);

    expect(await dataOf('kept')).toEqual(keptBefore);
    const keptAfter = await system.report
      .get('/stats')
      .query({ site_id: 'kept' })
      .set('authorization', `Bearer ${kept.read_key}`);
    expect(keptAfter.body).toEqual(keptStats.body);
    // the id is free again once the site document is gone
    expect(
      (await system.report.post('/sites').set(admin).send({ name: 'Reborn', site_id: 'doomed' })).status,
    ).toBe(201);
  }, 90_000);
});
