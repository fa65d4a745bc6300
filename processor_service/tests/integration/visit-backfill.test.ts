import {
  backfillWriterId,
  connectMongo,
  getRawEventModel,
  getRollupModel,
  getVisitPartModel,
  getWriteManifestModel,
  type RawEventDocument,
  type TrackedEvent,
} from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { createRawEventRepository } from '../../src/repositories/raw-event.repository';
import { toRawEventDocument } from '../../src/services/raw-event-document.service';
import { createEventStore } from '../../src/services/event-store.service';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(testMongoUri(uniqueTestNames('backfill').database));
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

/** Events as a release before visit parts stored them: no `in_visits`; the oldest without a visitor. */
async function storeOldEvents(count: number): Promise<void> {
  const docs: RawEventDocument[] = [];
  for (let i = 0; i < count; i += 1) {
    const event: TrackedEvent = {
      site_id: 'old',
      event_id: `e${i}`,
      event_type: 'page_view',
      path: `/p${i % 3}`,
      user_id: `u${i % 7}`,
      timestamp: new Date(Date.UTC(2026, 10, 20, 10, i % 50)).toISOString(),
      ...(i % 2 === 0 && { visitor: `u:u${i % 7}` }),
    };
    const { in_visits: _absent, ...doc } = toRawEventDocument({
      event,
      requestId: 'r',
      receivedAt: new Date(),
    });
    docs.push(doc);
  }
  await getRawEventModel(mongo).collection.insertMany(docs);
}

const countedInParts = async () =>
  (await getVisitPartModel(mongo).find({ site_id: 'old' }).lean()).reduce((sum, p) => sum + p.n, 0);
const backfill = (writer = backfillWriterId('t1')) =>
  createEventStore(mongo, { adoptAfterMs: 60_000, writer });

describe('visit backfill', () => {
  it('when run over 1,600 events stored before visit parts, then each is counted once, and again nothing changes', async () => {
    await storeOldEvents(1600);
    const store = backfill();
    let rounds = 0;
    while ((await store.backfillVisits(500)) > 0) rounds += 1;
    expect(rounds).toBe(4);
    expect(await countedInParts()).toBe(1600);
    // Views were counted when the events were stored: the backfill adds no rollup.
    expect(await getRollupModel(mongo).countDocuments({})).toBe(0);
    expect(await backfill(backfillWriterId('t2')).backfillVisits(500)).toBe(0);
    expect(await countedInParts()).toBe(1600);
    expect(await getRawEventModel(mongo).countDocuments({ in_visits: true })).toBe(1600);
  }, 120_000);

  it('when a backfill stopped after taking events, then the next run counts them once', async () => {
    await storeOldEvents(300);
    const token = { writer: backfillWriterId('dead'), seq: Date.now() - 1000 };
    const taken = await createRawEventRepository(mongo).takeUncountedInVisits(120, token);
    expect(taken).toHaveLength(120);
    const store = backfill();
    while ((await store.backfillVisits(100)) > 0);
    expect(await countedInParts()).toBe(300);
    expect(await getRawEventModel(mongo).countDocuments({ in_visits: { $ne: true } })).toBe(0);
  });
});
