import { getMetricPointModel, getMetricRollupModel, getMetricWriteModel } from '@analytics/common';
import { toMetricPointDocument } from '../../../processor_service/src/services/metric-point-document.service';
import { createMetricStore } from '../../../processor_service/src/services/metric-store.service';
import { ADMIN_API_KEY, startSystem, type TestSystem } from '../../../tests/support/system';
import { loadConfig } from '../../src/config';
import { createCronJobs } from '../../src/jobs';
import { createJobRunRepository } from '../../src/repositories/job-run.repository';
import { JobRunner } from '../../src/services/job-runner.service';

describe('the site-deletion job and custom metrics', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(async () => {
    await system.close();
  });

  it("when a site is deleted, then its metric points, rollups and own metric writes go and another site's stay", async () => {
    const mongo = system.ingestion.mongo;
    const doomed = await system.newSite();
    const kept = await system.newSite();
    const store = createMetricStore(mongo, { adoptAfterMs: 30_000 });
    const pointsOf = (siteId: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        toMetricPointDocument({
          point: {
            site_id: siteId,
            metric_id: `p${i}`,
            name: 'm',
            value: i,
            timestamp: new Date(Date.now() - i * 60_000).toISOString(),
            tags: { k: `v${i % 2}` },
          },
          requestId: 'r',
          receivedAt: new Date(),
        }),
      );
    await store.store(pointsOf(doomed.siteId, 6));
    await store.store(pointsOf(kept.siteId, 4));
    const countsOf = async (siteId: string) => ({
      points: await getMetricPointModel(mongo).countDocuments({ site_id: siteId }),
      rollups: await getMetricRollupModel(mongo).countDocuments({ site_id: siteId }),
      writes: await getMetricWriteModel(mongo).countDocuments({
        deltas: { $elemMatch: { site_id: siteId } },
      }),
    });
    const keptBefore = await countsOf(kept.siteId);
    expect(await countsOf(doomed.siteId)).toMatchObject({ points: 6, writes: 1 });
    expect(keptBefore).toMatchObject({ points: 4, writes: 1 });

    const deleted = await system.report
      .delete(`/sites/${doomed.siteId}`)
      .set('authorization', `Bearer ${ADMIN_API_KEY}`);
    expect(deleted.status).toBe(202);
    const config = loadConfig({ ...system.env, SITE_DELETION_SETTLE_MS: '60000' });
    const run = await new JobRunner(createJobRunRepository(mongo), 'test').run(
      createCronJobs(mongo, config)['site-deletion'],
      { trigger: 'manual', signal: new AbortController().signal },
    );
    expect(run).toMatchObject({ outcome: 'ok' });
    expect(await countsOf(doomed.siteId)).toEqual({ points: 0, rollups: 0, writes: 0 });
    expect(await countsOf(kept.siteId)).toEqual(keptBefore);
  });
});
