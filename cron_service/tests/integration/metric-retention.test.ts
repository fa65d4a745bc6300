import { DAY_MS, getMetricPointModel, getMetricRollupModel, getMetricWriteModel } from '@analytics/common';
import type { TestSite } from '@analytics/testkit';
import { toMetricPointDocument } from '../../../processor_service/src/services/metric-point-document.service';
import { createMetricStore } from '../../../processor_service/src/services/metric-store.service';
import { startSystem, type TestSystem } from '../../../tests/support/system';
import { loadConfig } from '../../src/config';
import { createCronJobs } from '../../src/jobs';
import { createJobRunRepository } from '../../src/repositories/job-run.repository';
import { JobRunner } from '../../src/services/job-runner.service';

describe('the retention job and custom metrics', () => {
  let system: TestSystem;
  let site: TestSite;

  beforeAll(async () => {
    system = await startSystem();
    site = await system.newSite();
  });
  afterAll(async () => {
    await system.close();
  });

  it('when metric points are older than RETENTION_DAYS, then they go, recent ones stay, and counts and sums answer the same', async () => {
    const mongo = system.ingestion.mongo;
    const oldStart = Math.floor((Date.now() - 40 * DAY_MS) / DAY_MS) * DAY_MS;
    const keptStart = Math.floor((Date.now() - 20 * DAY_MS) / DAY_MS) * DAY_MS;
    const at = (start: number, i: number) => new Date(start + 3_600_000 + i * 60_000).toISOString();
    const points = [
      ...Array.from({ length: 20 }, (_, i) => ({ ts: at(oldStart, i), value: i * 1.5 })),
      ...Array.from({ length: 8 }, (_, i) => ({ ts: at(keptStart, i), value: i + 0.25 })),
    ].map(({ ts, value }, i) =>
      toMetricPointDocument({
        point: { site_id: site.siteId, metric_id: `ret-${i}`, name: 'm', value, timestamp: ts },
        requestId: 'seed',
        receivedAt: new Date(),
      }),
    );
    // Stored the way the processor does (days that ingestion refuses).
    await createMetricStore(mongo, { adoptAfterMs: 30_000 }).store(points);
    const oldDay = new Date(oldStart).toISOString().slice(0, 10);
    const keptDay = new Date(keptStart).toISOString().slice(0, 10);
    const ask = async (day: string, aggs: string) => {
      const res = await system.report
        .get(`/metrics/query?site_id=${site.siteId}&name=m&from=${day}&to=${day}&aggs=${aggs}`)
        .set('authorization', `Bearer ${site.readKey}`);
      expect(res.status).toBe(200);
      return res.body as Record<string, unknown>;
    };
    const oldBefore = await ask(oldDay, 'count,sum,mean,min,max,median');
    expect(oldBefore.approximate).toBeUndefined();
    const rollupsBefore = await getMetricRollupModel(mongo).find({}).sort({ _id: 1 }).lean();

    const config = loadConfig({ ...system.env, RETENTION_DAYS: '30', RETENTION_BATCH_SIZE: '7' });
    const run = await new JobRunner(createJobRunRepository(mongo), 'test').run(
      createCronJobs(mongo, config).retention,
      {
        trigger: 'manual',
        signal: new AbortController().signal,
      },
    );
    expect(run).toMatchObject({ outcome: 'ok' });

    const stored = getMetricPointModel(mongo);
    expect(await stored.countDocuments({ timestamp: { $lt: new Date(keptStart) } })).toBe(0);
    expect(await stored.countDocuments({})).toBe(8);
    expect(await getMetricRollupModel(mongo).find({}).sort({ _id: 1 }).lean()).toEqual(rollupsBefore);
    // The write holding both days was made today: its manifest stays until no raw point it lists is left.
    expect(await getMetricWriteModel(mongo).countDocuments({})).toBe(1);

    const oldAfter = await ask(oldDay, 'count,sum,mean,min,max,median');
    expect(oldAfter).toMatchObject({ approximate: true, relative_error_bound: 0.01 });
    const { median: medianAfter, ...exactAfter } = oldAfter.total as Record<string, number>;
    const { median: medianBefore, ...exactBefore } = oldBefore.total as Record<string, number>;
    expect(exactAfter).toEqual(exactBefore);
    expect(Math.abs(medianAfter! - medianBefore!)).toBeLessThanOrEqual(0.01 * Math.abs(medianBefore!));
    expect((await ask(keptDay, 'count,sum,median')).approximate).toBeUndefined();
  });
});
