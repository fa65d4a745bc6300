import {
  connectMongo,
  getRawEventModel,
  getRollupModel,
  getVisitPartModel,
  getWriteManifestModel,
  rollupId,
  type RawEventDocument,
  type TrackedEvent,
} from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { createRawEventRepository } from '../../src/repositories/raw-event.repository';
import { toRawEventDocument } from '../../src/services/raw-event-document.service';
import { createEventStore, type EventStore } from '../../src/services/event-store.service';
import { rollupDifferences } from '../../../tests/support/recount';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(testMongoUri(uniqueTestNames('store').database));
});
afterAll(async () => {
  await dropTestDatabase(mongo);
  await mongo.close();
});
beforeEach(async () => {
  await getRawEventModel(mongo).deleteMany({});
  await getRollupModel(mongo).deleteMany({});
  await getWriteManifestModel(mongo).deleteMany({});
  await getVisitPartModel(mongo).deleteMany({});
});

const DAY = '2025-11-12';

function docs(ids: number[], site = 'race'): RawEventDocument[] {
  return ids.map((i) => {
    const event: TrackedEvent = {
      site_id: site,
      event_id: `e${i}`,
      event_type: i % 5 === 4 ? 'signup' : 'page_view',
      user_id: `u${i % 4}`,
      timestamp: new Date(Date.UTC(2025, 10, 12, i % 2 ? 23 : 0, 59, 59, 999)).toISOString(),
    };
    if (event.event_type === 'page_view') event.path = `/p${i % 3}`;
    return toRawEventDocument({ event, requestId: 'r', receivedAt: new Date() });
  });
}

/** Page views per path of the day, computed from the ids sent (the ground truth). */
function expectedDayViews(ids: number[]): Map<string, number> {
  const views = new Map<string, number>();
  for (const i of new Set(ids)) {
    if (i % 5 === 4) continue;
    views.set(`/p${i % 3}`, (views.get(`/p${i % 3}`) ?? 0) + 1);
  }
  return views;
}

async function storedDayViews(site = 'race'): Promise<Map<string, number>> {
  const rows = await getRollupModel(mongo).find({ kind: 'views', period: 'D', site_id: site }).lean();
  return new Map(rows.map((r) => [r.path!, r.views!]));
}

/** An after-raw-write hook that throws the first time only (a write cut off half-way, once). */
function failOnce(): () => void {
  let failed = false;
  return () => {
    if (failed) return;
    failed = true;
    throw new Error('injected');
  };
}

function store(options: Partial<Parameters<typeof createEventStore>[1]> = {}): EventStore {
  return createEventStore(mongo, { adoptAfterMs: 60_000, ...options });
}

describe('EventStore', () => {
  it('when a batch is stored, then every event is stored once and the rollups hold the counts sent', async () => {
    const ids = [...Array(40).keys()];
    const result = await store().store(docs(ids));
    expect(result).toEqual({ received: 40, inserted: 40 });
    expect(await getRawEventModel(mongo).countDocuments({ site_id: 'race' })).toBe(40);
    expect(await storedDayViews()).toEqual(expectedDayViews(ids));
    const users = await getRollupModel(mongo).countDocuments({ kind: 'users', period: 'D', bucket: DAY });
    expect(users).toBe(4);
    expect(await rollupDifferences(mongo)).toEqual([]);
  });

  it('when two workers store the same and overlapping batches at the same time, then every rollup is exact', async () => {
    const stores = [store(), store(), store()];
    const a = [...Array(30).keys()];
    const b = a.map((i) => i + 15);
    await Promise.all([stores[0]!.store(docs(a)), stores[1]!.store(docs(a)), stores[2]!.store(docs(b))]);
    expect(await storedDayViews()).toEqual(expectedDayViews([...a, ...b]));
    expect(await rollupDifferences(mongo)).toEqual([]);
    const again = await stores[0]!.store(docs(b));
    expect(again.inserted).toBe(0);
    expect(await storedDayViews()).toEqual(expectedDayViews([...a, ...b]));
  });

  it('when an event is resent with another user and path, then only the stored version counts', async () => {
    const s = store();
    await s.store(docs([0]));
    const resent = docs([0]).map((doc) => ({ ...doc, user_id: 'someone-else', path: '/elsewhere' }));
    await s.store(resent);
    await store().store(resent);
    expect(await storedDayViews()).toEqual(new Map([['/p0', 1]]));
    const users = await getRollupModel(mongo).find({ kind: 'users', period: 'D' }).lean();
    expect(users.map((u) => u.user_id)).toEqual(['u0']);
  });

  it('when a batch holds the same event twice, then it counts once, and the repeats as duplicates', async () => {
    const batch = docs([1, 2, 3, 1, 2]);
    // received − inserted is the processor's duplicate counter: two deliveries of a job met in one write.
    expect(await store().store(batch)).toEqual({ received: 5, inserted: 3 });
    expect(await storedDayViews()).toEqual(expectedDayViews([1, 2, 3]));
  });

  it('when a write fails after its raw insert, then the same writer settles it before its next write', async () => {
    const s = store({ afterRawWrite: failOnce() });
    const first = [...Array(20).keys()];
    await expect(s.store(docs(first))).rejects.toThrow('injected');
    expect(await getRawEventModel(mongo).countDocuments({})).toBe(20);
    expect(await storedDayViews()).toEqual(new Map());
    // The queue runs the failed jobs again, in a smaller write, together with new ones.
    const second = [...first.slice(0, 5), 100, 101, 102];
    await s.store(docs(second));
    expect(await storedDayViews()).toEqual(expectedDayViews([...first, ...second]));
    expect(await rollupDifferences(mongo)).toEqual([]);
  });

  it('when a write fails after its raw insert and no batch follows, then its writer settles it by itself within seconds', async () => {
    const s = store({ afterRawWrite: failOnce() });
    const ids = [...Array(12).keys()];
    await expect(s.store(docs(ids))).rejects.toThrow('injected');
    // Another processor meeting these events would wait for this manifest: it must appear on its own.
    const started = Date.now();
    while ((await getWriteManifestModel(mongo).countDocuments({ applied: true })) === 0) {
      if (Date.now() - started > 10_000) throw new Error('the failed write was not settled within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await storedDayViews()).toEqual(expectedDayViews(ids));
  });

  it('when a writer dies after its raw insert, then another settles that write once it is old enough, exactly once', async () => {
    const dying = store({
      afterRawWrite: () => {
        throw new Error('process died here');
      },
    });
    const ids = [...Array(25).keys()];
    await expect(dying.store(docs(ids))).rejects.toThrow();
    dying.close(); // it died: nothing of it runs any more
    const started = Date.now();
    const [a, b] = [store({ adoptAfterMs: 300 }), store({ adoptAfterMs: 300 })];
    // Two processors meet the dead write's events at once (its jobs, redelivered, and a duplicate).
    await Promise.all([a.store(docs(ids.slice(0, 10))), b.store(docs(ids.slice(5, 25)))]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await storedDayViews()).toEqual(expectedDayViews(ids));
    expect(await rollupDifferences(mongo)).toEqual([]);
    expect(await getWriteManifestModel(mongo).countDocuments({ applied: false })).toBe(0);
  });

  it('when an event of a write is stored after that write was settled, then a later write counts it once', async () => {
    const raw = createRawEventRepository(mongo);
    const late = { writer: 'deadbeef0000', seq: Date.now() - 120_000 };
    await raw.insertOnce(docs([1, 2, 3]), late);
    const s = store({ adoptAfterMs: 1000 });
    // Settles the old write from what it stored: events 1-3.
    await s.store(docs([1]));
    expect(await storedDayViews()).toEqual(expectedDayViews([1, 2, 3]));
    // An insert of the same write lands late (a command that was still on its way).
    await raw.insertOnce(docs([6, 7]), late);
    await s.store(docs([6, 7, 8]));
    await store().store(docs([6, 7]));
    expect(await storedDayViews()).toEqual(expectedDayViews([1, 2, 3, 6, 7, 8]));
    expect(await rollupDifferences(mongo)).toEqual([]);
  });

  it('when one view rollup is reached by many writes, then its count is their sum', async () => {
    const s = store();
    const all: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const ids = [...Array(6).keys()].map((i) => round * 100 + i * 3);
      all.push(...ids);
      await s.store(docs(ids));
    }
    const hourly = await getRollupModel(mongo)
      .findById(rollupId.views('H', 'race', '2025-11-12T00', '/p0'))
      .lean();
    const expected = all.filter((i) => i % 2 === 0 && i % 5 !== 4 && i % 3 === 0).length;
    expect(hourly?.views).toBe(expected);
    expect(await storedDayViews()).toEqual(expectedDayViews(all));
  });
});
