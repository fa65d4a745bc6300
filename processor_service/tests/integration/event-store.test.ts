import { connectMongo, type RawEventDocument, type TrackedEvent } from '@analytics/common';
import { buildTestEnv, dropTestDatabase } from '@analytics/common/testing';
import type mongoose from 'mongoose';
import { createRawEventRepository, toRawEventDocument } from '../../src/repositories/raw-event.repository';
import { createRollupRepository } from '../../src/repositories/rollup.repository';
import { EventStore } from '../../src/services/event-store.service';
import { rollupDifferences } from '../../../tests/support/recount';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(buildTestEnv('store').MONGODB_URI!);
});
afterAll(async () => {
  await dropTestDatabase(mongo);
  await mongo.close();
});

const SITE = 'race';

/** Page views e<i> of SITE: three paths, four users, at the last millisecond of two hours of one day. */
function docs(ids: number[]): RawEventDocument[] {
  return ids.map((i) => {
    const event: TrackedEvent = {
      site_id: SITE,
      event_id: `e${i}`,
      event_type: 'page_view',
      path: `/p${i % 3}`,
      user_id: `u${i % 4}`,
      timestamp: new Date(Date.UTC(2025, 10, 12, i % 2 ? 23 : 0, 59, 59, 999)).toISOString(),
    };
    return toRawEventDocument({ event, requestId: 'r', receivedAt: new Date() });
  });
}

interface StoredRollup {
  kind: string;
  period: string;
  bucket: string;
  path?: string;
  views?: number;
  user_id?: string;
}

/** What the rollups must hold for these events, counted here from the input, not from storage. */
function expectedRollups(events: RawEventDocument[]): { views: string[]; users: string[] } {
  const views = new Map<string, Set<string>>();
  const users = new Set<string>();
  for (const e of events) {
    for (const [period, bucket] of [
      ['H', e.hour],
      ['D', e.day],
    ] as const) {
      const key = `${period} ${bucket} ${e.path!}`;
      views.set(key, (views.get(key) ?? new Set()).add(e.event_id));
      users.add(`${period} ${bucket} ${e.user_id!}`);
    }
  }
  return {
    views: [...views].map(([key, ids]) => `${key} = ${ids.size}`).sort(),
    users: [...users].sort(),
  };
}

/** The rollups as stored in the `rollups` collection, in the same notation. */
async function storedRollups(): Promise<{ views: string[]; users: string[] }> {
  const rollups = await mongo.collection<StoredRollup>('rollups').find({ site_id: SITE }).toArray();
  return {
    views: rollups
      .filter((r) => r.kind === 'views' && (r.views ?? 0) !== 0)
      .map((r) => `${r.period} ${r.bucket} ${r.path!} = ${r.views!}`)
      .sort(),
    users: rollups
      .filter((r) => r.kind === 'users')
      .map((r) => `${r.period} ${r.bucket} ${r.user_id!}`)
      .sort(),
  };
}

async function storedEventIds(): Promise<string[]> {
  const events = await mongo.collection<RawEventDocument>('events').find({ site_id: SITE }).toArray();
  return events.map((e) => e.event_id).sort();
}

describe('EventStore.store', () => {
  it('when two workers store the same and overlapping batches at the same time, then each event is stored once and the rollups count each once', async () => {
    const stores = [0, 1, 2].map(
      () => new EventStore(createRawEventRepository(mongo), createRollupRepository(mongo)),
    );
    const batchA = docs([...Array(30).keys()]);
    const batchB = docs([...Array(30).keys()].map((i) => i + 15));
    const everyEvent = docs([...Array(45).keys()]);
    await Promise.all([stores[0]!.store(batchA), stores[1]!.store(batchA), stores[2]!.store(batchB)]);

    expect(await storedEventIds()).toEqual(everyEvent.map((e) => e.event_id).sort());
    const expected = expectedRollups(everyEvent);
    // 45 events, 3 paths, 4 users (two in each hour), 2 hours of one day: 6 hourly and 3 daily view
    // rollups, 4 hourly and 4 daily user ones
    expect(expected.views).toHaveLength(9);
    expect(expected.users).toHaveLength(8);
    expect(await storedRollups()).toEqual(expected);
    expect(await rollupDifferences(mongo)).toEqual([]);

    const again = await stores[0]!.store(batchB);
    expect(again.inserted).toBe(0);
    expect(await storedEventIds()).toHaveLength(45);
    expect(await storedRollups()).toEqual(expected);
  });
});
