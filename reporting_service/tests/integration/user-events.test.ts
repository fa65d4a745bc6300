import type { RawEventDocument } from '@analytics/common';
import { expectErrorBody } from '../../../tests/support/error-body';
import { buildRawEvent, insertRawEvents } from '../fixtures/raw-events';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';
const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
let h: ReportingHarness;

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY });
});
afterAll(async () => {
  await h.close();
});

interface Page {
  events: { event_id: string; timestamp: string; user_id: string | null; props: Record<string, unknown> }[];
  next_cursor: string | null;
}

async function createSite(siteId: string, timezone = 'Etc/UTC'): Promise<{ read_key: string }> {
  const res = await h.http.post('/sites').set(admin).send({ name: siteId, site_id: siteId, timezone });
  expect(res.status).toBe(201);
  return res.body as { read_key: string };
}

/** Newest first, ties by event_id ascending. */
function newestFirst(a: RawEventDocument, b: RawEventDocument): number {
  return (
    b.timestamp.getTime() - a.timestamp.getTime() ||
    (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0)
  );
}

async function readAllPages(path: string, pause?: (page: number) => Promise<void>): Promise<Page['events']> {
  const events: Page['events'] = [];
  let cursor: string | null = null;
  for (let page = 0; ; page += 1) {
    const res = await h.http.get(`${path}${cursor ? `&cursor=${cursor}` : ''}`).set(admin);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const body = res.body as Page;
    events.push(...body.events);
    if (body.next_cursor === null) return events;
    cursor = body.next_cursor;
    await pause?.(page);
  }
}

describe('GET /users/:user_id/events', () => {
  it("when a user has 250 events among others', then pages of 100 return each of them once, newest first, ties by event_id", async () => {
    await createSite('ue-main');
    await createSite('ue-other');
    const base = Date.UTC(2026, 10, 20, 9, 0, 0);
    const mine = Array.from({ length: 250 }, (_, i) =>
      buildRawEvent({
        site_id: 'ue-main',
        user_id: 'user@example.com',
        visitor: 'u:user@example.com',
        event_id: `m-${(i * 37) % 1000}-${i}`,
        // Groups of three share a timestamp.
        timestamp: new Date(base + Math.floor(i / 3) * 60_000),
        props: [{ key: 'i', value: i }],
      }),
    );
    const others = [
      buildRawEvent({
        site_id: 'ue-main',
        user_id: 'someone-else',
        event_id: 'o-1',
        timestamp: new Date(base),
      }),
      buildRawEvent({ site_id: 'ue-main', event_id: 'o-anon', timestamp: new Date(base) }),
      buildRawEvent({
        site_id: 'ue-other',
        user_id: 'user@example.com',
        event_id: 'o-site',
        timestamp: new Date(base),
      }),
    ];
    await insertRawEvents(h.mongo, [...mine, ...others]);

    const first = await h.http.get('/users/user%40example.com/events?site_id=ue-main').set(admin);
    expect(first.status).toBe(200);
    expect((first.body as Page).events).toHaveLength(100);
    const all = await readAllPages('/users/user%40example.com/events?site_id=ue-main&limit=100');
    const expected = [...mine].sort(newestFirst);
    expect(all.map((e) => e.event_id)).toEqual(expected.map((e) => e.event_id));
    expect(all[0]).toMatchObject({
      user_id: 'user@example.com',
      timestamp: expected[0]!.timestamp.toISOString(),
      props: { i: expect.any(Number) },
    });
  });

  it('when events are stored between pages, then every event stored before the first page is returned exactly once; a later one only if older than the position reached', async () => {
    await createSite('ue-live');
    const base = Date.UTC(2026, 10, 20, 9, 0, 0);
    const before = Array.from({ length: 30 }, (_, i) =>
      buildRawEvent({
        site_id: 'ue-live',
        user_id: 'u1',
        event_id: `b-${i}`,
        timestamp: new Date(base + i * 1000),
      }),
    );
    await insertRawEvents(h.mongo, before);
    const later = {
      newer: buildRawEvent({
        site_id: 'ue-live',
        user_id: 'u1',
        event_id: 'late-newer',
        timestamp: new Date(base + 99_000),
      }),
      // Same timestamp as an event already on the first page, smaller id: sorts before the cursor.
      tie: buildRawEvent({
        site_id: 'ue-live',
        user_id: 'u1',
        event_id: 'a-tie',
        timestamp: new Date(base + 25_000),
      }),
      older: buildRawEvent({
        site_id: 'ue-live',
        user_id: 'u1',
        event_id: 'late-older',
        timestamp: new Date(base - 5000),
      }),
    };

    const all = await readAllPages('/users/u1/events?site_id=ue-live&limit=7', async (page) => {
      if (page === 0) await insertRawEvents(h.mongo, [later.newer, later.tie, later.older]);
    });

    const ids = all.map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const event of before) expect(ids.filter((id) => id === event.event_id)).toHaveLength(1);
    expect(ids).not.toContain('late-newer');
    expect(ids).not.toContain('a-tie');
    expect(ids[ids.length - 1]).toBe('late-older');
  });

  it("when from/to are given, then only the events of those days in the site's zone", async () => {
    await createSite('ue-zone', 'America/New_York');
    // 2026-11-20 in New York (UTC-5) is [05:00Z on the 20th, 05:00Z on the 21st).
    await insertRawEvents(h.mongo, [
      buildRawEvent({
        site_id: 'ue-zone',
        user_id: 'z',
        event_id: 'z-before',
        timestamp: new Date('2026-11-20T04:59:59.999Z'),
      }),
      buildRawEvent({
        site_id: 'ue-zone',
        user_id: 'z',
        event_id: 'z-first',
        timestamp: new Date('2026-11-20T05:00:00.000Z'),
      }),
      buildRawEvent({
        site_id: 'ue-zone',
        user_id: 'z',
        event_id: 'z-last',
        timestamp: new Date('2026-11-21T04:59:59.999Z'),
      }),
      buildRawEvent({
        site_id: 'ue-zone',
        user_id: 'z',
        event_id: 'z-after',
        timestamp: new Date('2026-11-21T05:00:00.000Z'),
      }),
    ]);
    const res = await h.http.get('/users/z/events?site_id=ue-zone&from=2026-11-20&to=2026-11-20').set(admin);
    expect(res.status).toBe(200);
    expect((res.body as Page).events.map((e) => e.event_id)).toEqual(['z-last', 'z-first']);
    expect((res.body as Page).next_cursor).toBeNull();
  });

  it('when a read key, no key, a bad limit or cursor, or an unknown site, then 401, 401, 400, 400, 404', async () => {
    const site = await createSite('ue-auth');
    const reader = await h.http
      .get('/users/u1/events?site_id=ue-auth')
      .set({ authorization: `Bearer ${site.read_key}` });
    expect(reader.status).toBe(401);
    expectErrorBody(reader, { code: 'invalid-api-key' });
    expect((await h.http.get('/users/u1/events?site_id=ue-auth')).status).toBe(401);
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['cursor=a%2Bb', 'cursor'],
      ['from=2026-13-01', 'from'],
    ] as const) {
      const res = await h.http.get(`/users/u1/events?site_id=ue-auth&${query}`).set(admin);
      expect(res.status).toBe(400);
      expectErrorBody(res, { code: 'validation-failed', fields: [field] });
    }
    const limitMax = await h.http.get('/users/u1/events?site_id=ue-auth&limit=1000').set(admin);
    expect(limitMax.status).toBe(200);
    expect(limitMax.body).toEqual({ events: [], next_cursor: null });
    expect((await h.http.get('/users/u1/events?site_id=missing').set(admin)).status).toBe(404);
  });
});
