import {
  connectMongo,
  getRawEventModel,
  getRollupModel,
  getWriteManifestModel,
  ingestEventsJobSchema,
  type TrackedEvent,
} from '@analytics/common';
import { dropTestDatabase, testMongoUri, uniqueTestNames } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { toRawEventDocument } from '../../src/services/raw-event-document.service';
import { createEventStore } from '../../src/services/event-store.service';

let mongo: mongoose.Connection;

beforeAll(async () => {
  mongo = await connectMongo(testMongoUri(uniqueTestNames('derived').database));
});
afterAll(async () => {
  await dropTestDatabase(mongo);
  await mongo.close();
});

const OLD_SHAPE: TrackedEvent = {
  site_id: 'shop',
  event_id: 'old-1',
  event_type: 'page_view',
  path: '/a',
  timestamp: '2026-12-06T10:00:00.000Z',
  referrer: 'https://example.com/?q=1',
};

const ENRICHED: TrackedEvent = {
  site_id: 'shop',
  event_id: 'new-1',
  event_type: 'page_view',
  path: '/landing',
  timestamp: '2026-12-06T10:01:00.000Z',
  referrer: 'www.google.com',
  visitor: 'a:0123456789abcdefABCDEF',
  device: 'mobile',
  browser: 'Safari',
  os: 'iOS',
  country: 'GB',
  source: 'newsletter',
  utm_source: 'newsletter',
  utm_medium: 'email',
  utm_campaign: 'winter',
  utm_term: 'boots',
  utm_content: 'hero',
};

describe('the job payload schema', () => {
  it.each([
    ['the shape before enrichment', OLD_SHAPE],
    ['the enriched shape', ENRICHED],
  ])('when a job holds %s, then the consumer accepts it', (_, event) => {
    const job = { v: 2, requests: [{ request_id: 'r1', received_at: event.timestamp, events: [event] }] };
    expect(ingestEventsJobSchema.validate(job).error).toBeUndefined();
  });

  it.each([
    ['a visitor outside both namespaces', { visitor: '203.0.113.9' }],
    ['an unknown device class', { device: 'watch' }],
    ['a country that is no alpha-2 code', { country: 'gb' }],
    ['a field the contract does not know (an IP)', { ip: '203.0.113.9' }],
  ])('when an event has %s, then the job is refused', (_, extra) => {
    const job = {
      v: 1,
      request_id: 'r1',
      received_at: ENRICHED.timestamp,
      events: [{ ...ENRICHED, ...extra }],
    };
    expect(ingestEventsJobSchema.validate(job).error).toBeDefined();
  });
});

describe('storing derived fields', () => {
  it('when enriched and older events are stored, then each raw event keeps exactly what its job carried', async () => {
    await getRawEventModel(mongo).deleteMany({});
    await getRollupModel(mongo).deleteMany({});
    await getWriteManifestModel(mongo).deleteMany({});
    const store = createEventStore(mongo, { adoptAfterMs: 60_000 });
    const docs = [OLD_SHAPE, ENRICHED].map((event) =>
      toRawEventDocument({ event, requestId: 'r1', receivedAt: new Date(event.timestamp) }),
    );
    await store.store(docs);
    const stored = await getRawEventModel(mongo).find({ site_id: 'shop' }).sort({ event_id: 1 }).lean();
    const [enriched, old] = stored;
    const { site_id: _s, event_id: _e, event_type: _t, path: _p, timestamp: _ts, ...derived } = ENRICHED;
    expect(enriched).toMatchObject(derived);
    expect(old).toMatchObject({ event_id: 'old-1', referrer: 'https://example.com/?q=1' });
    for (const field of ['visitor', 'device', 'browser', 'os', 'country', 'source', 'utm_source']) {
      expect(old).not.toHaveProperty(field);
    }
  });
});
