import type { TrackedEvent } from '@analytics/common';
import { VisitorSaltRepository } from '../../src/repositories/visitor-salt.repository';
import { VisitorSalts, saltExpiresAt } from '../../src/services/visitor-salt.service';
import { buildEvent } from '../fixtures/events';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';
import { USER_AGENTS } from '../fixtures/user-agents';

const DAY_MS = 86_400_000;
/** Two days ago (UTC), so the day after it is still in the past. */
const D = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS).toISOString().slice(0, 10);
const D1 = new Date(Date.parse(D) + DAY_MS).toISOString().slice(0, 10);

/** The site view's zones, stubbed per site (the view gains real ones with sites' `timezone`). */
const zones = new Map<string, string>();
let h: IngestionHarness;

beforeAll(async () => {
  h = await startIngestionHarness({}, { siteSettings: { timezoneOf: (siteId) => zones.get(siteId) } });
});
afterAll(async () => {
  await h.close();
});

/** Sends one event per item as a server-side sender forwarding its end user; returns their visitors. */
async function visitorsOf(items: { ip: string; ua: string; timestamp?: string; user_id?: string }[]) {
  const events = items.map(({ ip, ua, timestamp, user_id }) =>
    buildEvent(h.site.siteId, { user_id, timestamp, context: { ip, user_agent: ua } }),
  );
  const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
  expect(res.status).toBe(202);
  const enqueued = new Map<string, TrackedEvent>((await h.enqueuedEvents()).map((e) => [e.event_id, e]));
  return events.map((e) => enqueued.get(e.event_id as string)!.visitor);
}

describe('anonymous visitors', () => {
  it('when the same IP and user agent send three events, then they are one visitor; another agent is another', async () => {
    const [a, b, c, other] = await visitorsOf([
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome },
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome },
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome },
      { ip: '81.2.69.142', ua: USER_AGENTS.iPhoneSafari },
    ]);
    expect(a).toMatch(/^a:[A-Za-z0-9_-]{22}$/);
    expect([b, c]).toEqual([a, a]);
    expect(other).toMatch(/^a:/);
    expect(other).not.toBe(a);
  });

  it('when the same browser sends three requests itself (no context), then they are one visitor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const event = buildEvent(h.site.siteId, { user_id: undefined });
      const res = await h.http
        .post('/event')
        .set('content-type', 'text/plain')
        .set('user-agent', USER_AGENTS.macFirefox)
        .send(JSON.stringify({ ...event, write_key: h.site.writeKey }));
      expect(res.status).toBe(202);
      ids.push((await h.enqueuedEvents()).find((e) => e.event_id === event.event_id)!.visitor!);
    }
    expect(new Set(ids).size).toBe(1);
  });

  it("when a site is in America/New_York, then UTC midnight is no boundary and the site's midnight is", async () => {
    zones.set(h.site.siteId, 'America/New_York');
    const visitor = { ip: '2a00:1450:4001:82a::200e', ua: USER_AGENTS.androidPhone };
    const [evening, afterUtcMidnight, nextDay] = await visitorsOf([
      { ...visitor, timestamp: `${D}T23:30:00Z` }, // 18:30 in New York, day D
      { ...visitor, timestamp: `${D1}T00:30:00Z` }, // 19:30 in New York, still day D
      { ...visitor, timestamp: `${D1}T05:30:00Z` }, // 00:30 in New York, day D+1
    ]);
    expect(afterUtcMidnight).toBe(evening);
    expect(nextDay).not.toBe(evening);

    zones.delete(h.site.siteId); // back to Etc/UTC: now UTC midnight is the boundary
    const [utcEvening, utcAfterMidnight] = await visitorsOf([
      { ...visitor, timestamp: `${D}T23:30:00Z` },
      { ...visitor, timestamp: `${D1}T00:30:00Z` },
    ]);
    expect(utcAfterMidnight).not.toBe(utcEvening);
  });

  it('when one batch mixes senders, then each event gets the visitor and country it gets sent alone', async () => {
    const items = [
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome, timestamp: `${D}T10:00:00Z` },
      { ip: '8.8.8.8', ua: USER_AGENTS.desktopChrome, timestamp: `${D}T10:00:00Z` },
      { ip: '81.2.69.142', ua: USER_AGENTS.iPhoneSafari, timestamp: `${D}T10:00:00Z` },
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome, timestamp: `${D1}T10:00:00Z` },
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome, timestamp: `${D}T11:00:00Z` },
      { ip: '8.8.8.8', ua: USER_AGENTS.desktopChrome, timestamp: `${D}T12:00:00Z` },
    ];
    const traitsOf = async (batch: typeof items) => {
      const events = batch.map(({ ip, ua, timestamp }) =>
        buildEvent(h.site.siteId, { user_id: undefined, timestamp, context: { ip, user_agent: ua } }),
      );
      const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
      expect(res.status).toBe(202);
      const enqueued = new Map((await h.enqueuedEvents()).map((e) => [e.event_id, e]));
      return events.map((e) => {
        const { visitor, country } = enqueued.get(e.event_id as string)!;
        return { visitor, country };
      });
    };
    const together = await traitsOf(items);
    const alone = [];
    for (const item of items) alone.push(...(await traitsOf([item])));
    expect(together).toEqual(alone);
    // Four distinct (address, agent, day) senders among the six, in two countries.
    expect(new Set(together.map((t) => t.visitor)).size).toBe(4);
    expect(together.map((t) => t.country)).toEqual(['GB', 'US', 'GB', 'GB', 'GB', 'US']);
  });

  it('when an event carries a user_id, then the visitor is that user on every day, apart from anonymous ids', async () => {
    const ids = await visitorsOf([
      { ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome, user_id: 'alice', timestamp: `${D}T10:00:00Z` },
      { ip: '8.8.8.8', ua: USER_AGENTS.iPhoneSafari, user_id: 'alice', timestamp: `${D1}T10:00:00Z` },
    ]);
    expect(ids).toEqual(['u:alice', 'u:alice']);
  });
});

describe('daily salts', () => {
  it('when two instances need the salt of a new date at once, then both get the one stored in Redis, which expires', async () => {
    const date = '2099-01-02'; // a date no other test uses
    const repository = new VisitorSaltRepository(h.service.redis, h.config.redis.prefix);
    const maxAgeMs = h.config.events.maxAgeMs;
    const instances = [new VisitorSalts(repository, maxAgeMs), new VisitorSalts(repository, maxAgeMs)];
    const [first, second] = await Promise.all(instances.map((salts) => salts.saltsFor([date])));
    const stored = await h.service.redis.get(repository.keyOf(date));
    expect(stored).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first!.get(date)).toBe(stored);
    expect(second!.get(date)).toBe(stored);
    const ttlMs = await h.service.redis.pttl(repository.keyOf(date));
    const expectedTtl = saltExpiresAt(date, maxAgeMs) - Date.now();
    expect(Math.abs(ttlMs - expectedTtl)).toBeLessThan(60_000);
    await h.service.redis.del(repository.keyOf(date));
  });

  it('when events of a date are accepted, then that date has a salt in Redis with an expiry', async () => {
    await visitorsOf([{ ip: '81.2.69.142', ua: USER_AGENTS.desktopChrome, timestamp: `${D}T12:00:00Z` }]);
    const key = `${h.config.redis.prefix}:visitor-salt:${D}`;
    const ttlMs = await h.service.redis.pttl(key);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(saltExpiresAt(D, h.config.events.maxAgeMs) - Date.now() + 1000);
  });
});
