import {
  connectMongo,
  getMetricPointModel,
  getMetricRollupModel,
  getMetricWriteModel,
  sumOfLimbs,
  type MetricWriteDocument,
} from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/testkit';
import type mongoose from 'mongoose';
import type { NewMetricPoint } from '../../src/repositories/metric-point.repository';
import { createMetricRollupRepository } from '../../src/repositories/metric-rollup.repository';
import { toMetricPointDocument } from '../../src/services/metric-point-document.service';
import { createMetricStore } from '../../src/services/metric-store.service';
import { fsum } from '../../../tests/support/metric-ground-truth';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(testMongoUri(uniqueTestNames('metricstore').database));
});
afterAll(async () => {
  await dropTestDatabase(mongo);
  await mongo.close();
});
beforeEach(async () => {
  await getMetricPointModel(mongo).deleteMany({});
  await getMetricRollupModel(mongo).deleteMany({});
  await getMetricWriteModel(mongo).deleteMany({});
});

const VALUES = [1e16, 1, -1e16, 0.1, 0.2, 0.3, -7, 42];

function points(ids: number[]): NewMetricPoint[] {
  return ids.map((i) =>
    toMetricPointDocument({
      point: {
        site_id: 'race',
        metric_id: `m${i}`,
        name: 'lat',
        value: VALUES[i % VALUES.length]!,
        timestamp: new Date(Date.UTC(2025, 10, 12, 10, i % 3, 0)).toISOString(),
        tags: { t: i % 2 ? 'a' : 'b' },
      },
      requestId: 'r',
      receivedAt: new Date(),
    }),
  );
}

/** The day rollups added up: what every answer is built from. */
async function dayTotals(): Promise<{ count: number; sum: number; min: number; max: number }> {
  const rows = await getMetricRollupModel(mongo).find({ period: 'd' }).lean();
  const limbs: Record<string, number> = {};
  for (const row of rows) for (const [j, v] of Object.entries(row.s ?? {})) limbs[j] = (limbs[j] ?? 0) + v;
  return {
    count: rows.reduce((n, r) => n + r.count, 0),
    sum: sumOfLimbs(limbs),
    min: Math.min(...rows.map((r) => r.min!)),
    max: Math.max(...rows.map((r) => r.max!)),
  };
}

function truth(ids: number[]) {
  const values = [...new Set(ids)].map((i) => VALUES[i % VALUES.length]!);
  return { count: values.length, sum: fsum(values), min: Math.min(...values), max: Math.max(...values) };
}

describe('metric store', () => {
  it('when three writers race on overlapping batches, then every point counts once', async () => {
    const stores = [0, 1, 2].map(() => createMetricStore(mongo, { adoptAfterMs: 500 }));
    const batches = [
      [0, 1, 2, 3, 4, 5],
      [3, 4, 5, 6, 7, 8],
      [0, 8, 9, 10, 11, 11],
    ];
    await Promise.all(stores.map((store, i) => store.store(points(batches[i]!))));
    expect(await getMetricPointModel(mongo).countDocuments({})).toBe(12);
    expect(await dayTotals()).toEqual(truth(batches.flat()));
    // Every write applied; minute, quarter, hour and day rollups agree.
    expect(await getMetricWriteModel(mongo).countDocuments({ applied: false })).toBe(0);
    for (const period of ['m', 'q', 'h'] as const) {
      const rows = await getMetricRollupModel(mongo).find({ period }).lean();
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(12);
    }
  });

  it('when a write stops after storing its points, then its retry elsewhere counts them once (adopted)', async () => {
    const crashing = createMetricStore(mongo, {
      adoptAfterMs: 300,
      afterRawWrite: () => {
        throw new Error('crash between the raw write and the manifest');
      },
    });
    await expect(crashing.store(points([0, 1, 2, 3]))).rejects.toThrow('crash');
    expect(await getMetricRollupModel(mongo).countDocuments({})).toBe(0);
    const other = createMetricStore(mongo, { adoptAfterMs: 300 });
    await other.store(points([0, 1, 2, 3, 4]));
    expect(await dayTotals()).toEqual(truth([0, 1, 2, 3, 4]));
    // The same batch once more, from yet another processor: nothing changes.
    await createMetricStore(mongo, { adoptAfterMs: 300 }).store(points([0, 1, 2, 3, 4]));
    expect(await dayTotals()).toEqual(truth([0, 1, 2, 3, 4]));
  });

  it('when a manifest is applied again (a redelivery after a crash before it was marked), then nothing changes', async () => {
    const store = createMetricStore(mongo, { adoptAfterMs: 300 });
    await store.store(points([0, 1, 2, 3, 4, 5, 6, 7]));
    const before = await dayTotals();
    const manifests = (await getMetricWriteModel(mongo).find({}).lean()) as MetricWriteDocument[];
    await createMetricRollupRepository(mongo).apply(manifests);
    await createMetricRollupRepository(mongo).apply(manifests);
    expect(await dayTotals()).toEqual(before);
    expect(before).toEqual(truth([0, 1, 2, 3, 4, 5, 6, 7]));
  });
});
