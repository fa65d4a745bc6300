import { getRawEventModel } from '@analytics/common';
import { dayRangeMs, expectedStats, type SentEvent } from '../support/ground-truth';
import { duplicateRawEvents, rollupDifferences, waitForDrain } from '../support/recount';
import { ADMIN_API_KEY, startSystem, type TestSystem } from '../support/system';
import type { TestSite } from '@analytics/testkit';

const DAY_MS = 86_400_000;
const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
const day = (offset: number) => new Date(today.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
const at = (offset: number, time: string) => `${day(offset)}T${time}Z`;

let system: TestSystem;
let siteA: TestSite;
let siteB: TestSite;
const sent: SentEvent[] = [];
let sequence = 0;

function event(
  site: TestSite,
  fields: Omit<SentEvent, 'site_id' | 'event_id'> & { event_id?: string },
): SentEvent {
  sequence += 1;
  return { site_id: site.siteId, event_id: fields.event_id ?? `e${sequence}`, ...fields };
}

async function sendBatch(site: TestSite, events: SentEvent[]): Promise<void> {
  const res = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events });
  expect(res.status).toBe(202);
  sent.push(...events);
}

async function stats(site: TestSite, query: string): Promise<Record<string, unknown>> {
  const res = await system.report
    .get(`/stats?site_id=${site.siteId}${query}`)
    .set('authorization', `Bearer ${site.readKey}`);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  system = await startSystem();
  siteA = await system.newSite();
  siteB = await system.newSite();

  const tricky = ['/', '/pricing', '/a.b', '/$where', '/ünïcode/路径', '/A', '/a', '/x//y/', '/%20space'];
  // Users spread across days so a range's unique users differ from the sum of its days.
  const users = ['u1', 'u2', 'u3', 'u4'];
  const batchA: SentEvent[] = [];
  for (let d = -3; d <= -1; d += 1) {
    tricky.forEach((path, i) => {
      for (let k = 0; k <= i % 3; k += 1) {
        batchA.push(
          event(siteA, {
            event_type: k % 2 ? 'pageview' : 'page_view',
            path: `${path}${k === 1 ? '?utm=1' : ''}${k === 2 ? '#frag' : ''}`,
            user_id: users[(i + d + 10) % users.length],
            timestamp: at(d, `1${k}:0${i}:00.000`),
          }),
        );
      }
    });
    batchA.push(
      event(siteA, { event_type: 'signup', user_id: `only-day${d}`, timestamp: at(d, '09:00:00.000') }),
    );
  }
  // Both sides of midnight UTC.
  batchA.push(
    event(siteA, {
      event_type: 'page_view',
      path: '/midnight',
      user_id: 'night',
      timestamp: at(-2, '23:59:59.999'),
    }),
  );
  batchA.push(
    event(siteA, {
      event_type: 'page_view',
      path: '/midnight',
      user_id: 'night',
      timestamp: at(-1, '00:00:00.000'),
    }),
  );
  // An offset that moves the event to the previous UTC day.
  batchA.push(
    event(siteA, { event_type: 'page_view', path: '/offset', timestamp: `${day(-1)}T01:30:00.000+02:00` }),
  );
  await sendBatch(siteA, batchA);

  // Resent duplicates: the same ids again, in another request and singly.
  await sendBatch(siteA, batchA.slice(0, 12));
  for (const duplicate of batchA.slice(12, 15)) {
    const res = await system.ingest.post('/event').set('x-api-key', siteA.writeKey).send(duplicate);
    expect(res.status).toBe(202);
  }

  // Another site on the same days and paths must not leak into site A's figures.
  await sendBatch(
    siteB,
    tricky.map((path) =>
      event(siteB, { event_type: 'page_view', path, user_id: 'b-user', timestamp: at(-1, '12:00:00.000') }),
    ),
  );
  // And events of the last hours for the default window.
  await sendBatch(siteA, [
    event(siteA, {
      event_type: 'page_view',
      path: '/now',
      user_id: 'u1',
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    }),
    event(siteA, {
      event_type: 'page_view',
      path: '/now',
      user_id: 'late',
      timestamp: new Date(Date.now() - 5 * 3_600_000).toISOString(),
    }),
  ]);
  await waitForDrain(system.queue);
});

afterAll(async () => {
  await system.close();
});

describe('GET /stats against a ground truth', () => {
  it.each([-3, -2, -1])('when asked for day %i, then every figure matches', async (offset) => {
    const body = await stats(siteA, `&date=${day(offset)}`);
    const [from, to] = dayRangeMs(day(offset), day(offset));
    expect(body).toEqual({
      site_id: siteA.siteId,
      date: day(offset),
      ...expectedStats(sent, siteA.siteId, from, to),
    });
  });

  it('when asked for a range, then unique users are distinct over the range, not the sum of days', async () => {
    const body = await stats(siteA, `&from=${day(-3)}&to=${day(-1)}`);
    const [from, to] = dayRangeMs(day(-3), day(-1));
    const expected = expectedStats(sent, siteA.siteId, from, to);
    expect(body).toEqual({ site_id: siteA.siteId, from: day(-3), to: day(-1), ...expected });
    let sumOfDays = 0;
    for (const offset of [-3, -2, -1])
      sumOfDays += (await stats(siteA, `&date=${day(offset)}`)).unique_users as number;
    expect(expected.unique_users).toBeLessThan(sumOfDays);
  });

  it('when no window is given, then the last 24 hours (current hour and the 23 before) are answered', async () => {
    const body = await stats(siteA, '');
    const end = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    expect(body).toEqual({
      site_id: siteA.siteId,
      from: new Date(end - 24 * 3_600_000).toISOString(),
      to: new Date(end).toISOString(),
      ...expectedStats(sent, siteA.siteId, end - 24 * 3_600_000, end),
    });
  });

  it('when the other site is asked, then it sees only its own events', async () => {
    const body = await stats(siteB, `&date=${day(-1)}`);
    const [from, to] = dayRangeMs(day(-1), day(-1));
    expect(body).toEqual({
      site_id: siteB.siteId,
      date: day(-1),
      ...expectedStats(sent, siteB.siteId, from, to),
    });
  });

  it('then every raw event is stored once and every rollup equals a recount of the raw events', async () => {
    expect(await duplicateRawEvents(system.ingestion.mongo)).toBe(0);
    const distinct = new Set(sent.map((e) => `${e.site_id}|${e.event_id}`)).size;
    expect(await getRawEventModel(system.ingestion.mongo).countDocuments({})).toBe(distinct);
    expect(await rollupDifferences(system.ingestion.mongo)).toEqual([]);
  });

  it('when a day has no events, then zeros and an empty list', async () => {
    expect(await stats(siteA, `&date=${day(-5)}`)).toEqual({
      site_id: siteA.siteId,
      date: day(-5),
      total_views: 0,
      unique_users: 0,
      top_paths: [],
    });
  });

  it('when the raw events of a day are deleted (retention), then that day answers the same', async () => {
    const before = await stats(siteA, `&date=${day(-2)}`);
    const deleted = await getRawEventModel(system.ingestion.mongo).deleteMany({
      site_id: siteA.siteId,
      day: day(-2),
    });
    expect(deleted.deletedCount).toBeGreaterThan(0);
    expect(await stats(siteA, `&date=${day(-2)}`)).toEqual(before);
  });

  it('when the admin key reads a site, then 200', async () => {
    const res = await system.report
      .get(`/stats?site_id=${siteB.siteId}`)
      .set('authorization', `Bearer ${ADMIN_API_KEY}`);
    expect(res.status).toBe(200);
  });
});
