import { connectMongo, type TrackedEvent } from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/common/testing';
import type mongoose from 'mongoose';
import { createRawEventRepository, toRawEventDocument } from '../../src/repositories/raw-event.repository';
import { createRollupRepository } from '../../src/repositories/rollup.repository';
import { EventStore } from '../../src/services/event-store.service';
import { rollupDifferences } from '../../../tests/support/recount';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(testMongoUri(uniqueTestNames('store').database));
});
afterAll(async () => {
  await dropTestDatabase(mongo);
  await mongo.close();
});

function docs(ids: number[]) {
  return ids.map((i) => {
    const event: TrackedEvent = {
      site_id: 'race',
      event_id: `e${i}`,
      event_type: 'page_view',
      path: `/p${i % 3}`,
      user_id: `u${i % 4}`,
      timestamp: new Date(Date.UTC(2025, 10, 12, i % 2 ? 23 : 0, 59, 59, 999)).toISOString(),
    };
    return toRawEventDocument({ event, requestId: 'r', receivedAt: new Date() });
  });
}

describe('EventStore', () => {
  it('when two workers store the same and overlapping batches at the same time, then every rollup equals a recount', async () => {
    const stores = [0, 1, 2].map(
      () => new EventStore(createRawEventRepository(mongo), createRollupRepository(mongo)),
    );
    const batchA = docs([...Array(30).keys()]);
    const batchB = docs([...Array(30).keys()].map((i) => i + 15));
    await Promise.all([stores[0]!.store(batchA), stores[1]!.store(batchA), stores[2]!.store(batchB)]);
    expect(await rollupDifferences(mongo)).toEqual([]);
    const again = await stores[0]!.store(batchB);
    expect(again.inserted).toBe(0);
    expect(await rollupDifferences(mongo)).toEqual([]);
  });
});
