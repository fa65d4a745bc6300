/**
 * POST /api/v2/query against a ground truth (contract Part 2): a random but seeded workload over four
 * sites in different zones — UTC, New York across its November DST change, Kolkata (+05:30), Kathmandu
 * (+05:45) — with anonymous and identified visitors, sources, devices, UTM tags, props, duplicates and
 * late events, 1,800 events sent at once; then random queries, each compared with a naive answer computed
 * from the stored raw events by tests/support/query-ground-truth.ts.
 */
import { getRawEventModel } from '@analytics/common';
import type { TestSite } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { configureSite, query } from '../support/query-client';
import { truthAnswer, type TruthEvent, type TruthFilter } from '../support/query-ground-truth';
import { startSystem, type TestSystem } from '../support/system';
import { createRetentionJob } from '../../cron_service/src/jobs/retention.job';

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
];
const IPS = ['8.8.8.8', '81.2.69.142', '2001:4860:4860::8888', '1.1.1.1', '203.0.113.9', '91.198.174.192'];
const PATHS = [
  '/',
  '/pricing',
  '/blog/one',
  '/blog/two',
  '/docs',
  '/a?utm_source=newsletter&utm_medium=email',
];
const REFERRERS = [
  undefined,
  'https://www.google.com/search',
  'https://news.ycombinator.com/item',
  'https://shop.example/home',
];
const ZONES = ['Etc/UTC', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu'];
const HOUR = 3_600_000;
const MIN = 60_000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.QUERY_TEST_SEED ?? 20261207);
const random = rng(SEED);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

let system: TestSystem;

/** `YYYY-MM-DD` of an instant in a zone (Intl, independent of the service's luxon). */
function localDay(zone: string, at: number): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}
const sites: { site: TestSite; zone: string; firstMs: number; lastMs: number; sent: Sent[] }[] = [];
const NOW = Date.now();
const DAY = 24 * HOUR;
/** The New York DST change of 2026 (01:00–02:00 happens twice): 2026-11-01 05:00 UTC. */
const NY_DST_END = Date.UTC(2026, 10, 1, 6, 0, 0);

interface Sent {
  site: TestSite;
  body: Record<string, unknown>;
}

function workload(
  site: TestSite,
  zone: string,
  count: number,
): { events: Sent[]; firstMs: number; lastMs: number } {
  const events: Sent[] = [];
  // New York's events sit around its DST change; the others in the last four days.
  const from = zone === 'America/New_York' ? NY_DST_END - 30 * HOUR : NOW - 4 * DAY;
  const span = zone === 'America/New_York' ? 54 * HOUR : 4 * DAY - HOUR;
  let id = 0;
  while (events.length < count) {
    const identified = random() < 0.3;
    const person = {
      ip: pick(IPS),
      ua: pick(UAS),
      user: identified ? `user${Math.floor(random() * 8)}` : undefined,
    };
    let t = from + Math.floor(random() * span);
    const referrer = pick(REFERRERS);
    const length = 1 + Math.floor(random() * 6);
    for (let i = 0; i < length && events.length < count; i += 1) {
      id += 1;
      const custom = random() < 0.2;
      events.push({
        site,
        body: {
          event_id: `${site.siteId}-${id}`,
          event_type: custom ? pick(['signup', 'click']) : random() < 0.5 ? 'pageview' : 'page_view',
          ...(custom ? (random() < 0.7 ? { path: pick(PATHS) } : {}) : { path: pick(PATHS) }),
          timestamp: new Date(Math.min(t, NOW - MIN)).toISOString(),
          ...(person.user && { user_id: person.user }),
          ...(i === 0 && referrer && { referrer }),
          ...(custom && {
            props: { plan: pick(['free', 'pro']), n: pick([1, 2]), beta: pick([true, false]) },
          }),
          context: { ip: person.ip, user_agent: person.ua },
        },
      });
      // Mostly short gaps, sometimes just under or over the 30-minute cut.
      t += pick([1, 2, 5, 14, 29, 30, 31, 45]) * MIN + Math.floor(random() * 1000);
    }
  }
  const times = events.map((e) => Date.parse(e.body.timestamp as string));
  return { events, firstMs: Math.min(...times), lastMs: Math.max(...times) };
}

async function post(batch: Sent[]): Promise<void> {
  const res = await system.ingest
    .post('/events')
    .set('x-api-key', batch[0]!.site.writeKey)
    .send({ events: batch.map((e) => ({ site_id: e.site.siteId, ...e.body })) });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  // New York's events are five weeks old: raise the accepted age (contract: tests may).
  system = await startSystem({ ingestionEnv: { MAX_EVENT_AGE_HOURS: '2000' } });
  const all: Sent[] = [];
  for (const zone of ZONES) {
    const site = await system.newSite();
    await configureSite(system, site, { timezone: zone, domains: ['shop.example'] });
    const { events, firstMs, lastMs } = workload(site, zone, 450);
    sites.push({ site, zone, firstMs, lastMs, sent: events });
    all.push(...events);
  }
  // 1,800 events at once, minus the 10 % held back to arrive late; then those and 10 % resent.
  const late = all.filter(() => random() < 0.1);
  const first = all.filter((e) => !late.includes(e));
  const resent = first.filter(() => random() < 0.1);
  const batches = (list: Sent[]) => {
    const out: Sent[][] = [];
    for (const s of sites) {
      const mine = list.filter((e) => e.site === s.site);
      for (let i = 0; i < mine.length; i += 100) out.push(mine.slice(i, i + 100));
    }
    return out;
  };
  await Promise.all(batches(first).map(post));
  await waitForDrain(system.queue, 120_000);
  await Promise.all(batches([...late, ...resent]).map(post));
  await waitForDrain(system.queue, 120_000);
}, 240_000);
afterAll(async () => {
  await system?.close();
});

async function truthEvents(site: TestSite): Promise<TruthEvent[]> {
  const raw = await getRawEventModel(system.ingestion.mongo).find({ site_id: site.siteId }).lean();
  return raw.map((e) => ({ ...e, visitor: e.visitor! })) as unknown as TruthEvent[];
}

const DIMENSIONS = [
  'event:page',
  'event:name',
  'event:props:plan',
  'event:props:n',
  'visit:source',
  'visit:device',
  'visit:country',
  'visit:entry_page',
  'visit:exit_page',
  'visit:utm_source',
  'visit:browser',
  'time:day',
];
const FILTERS: TruthFilter[] = [
  ['is', 'visit:device', ['mobile']],
  ['is_not', 'event:page', ['/']],
  ['contains', 'event:page', ['/blog']],
  ['contains_not', 'visit:source', ['Google']],
  ['is', 'event:name', ['signup', 'click']],
  ['is', 'event:props:beta', ['true']],
  ['is', 'visit:entry_page', ['/', '/pricing']],
];
const VISIT_METRICS = ['visits', 'bounce_rate', 'visit_duration', 'views_per_visit'];

function randomQuery() {
  const dimensions = [...new Set([pick(DIMENSIONS), ...(random() < 0.3 ? [pick(DIMENSIONS)] : [])])].filter(
    (d, i, all) => !(d === 'time:day' && all.indexOf(d) !== i),
  );
  const eventLevel = dimensions.some((d) => d.startsWith('event:'));
  const pool = ['visitors', 'pageviews', 'events', ...(eventLevel ? [] : VISIT_METRICS), 'percentage'];
  const metrics = [...new Set([pick(pool), pick(pool), pick(pool)])];
  const filters = random() < 0.6 ? [pick(FILTERS), ...(random() < 0.3 ? [pick(FILTERS)] : [])] : [];
  return { metrics, dimensions, filters };
}

describe('POST /api/v2/query against a ground truth', () => {
  it('when the stored visitors are compared with what was sent, then one IP and user agent is one visitor per day of the site calendar, and a user_id one visitor', async () => {
    for (const { site, zone, sent } of sites) {
      const stored = new Map((await truthEvents(site)).map((e) => [e.event_id, e.visitor]));
      const expectedKey = (body: Record<string, unknown>) => {
        const context = body.context as { ip: string; user_agent: string };
        return body.user_id
          ? `user ${String(body.user_id)}`
          : `${context.ip} ${context.user_agent} ${localDay(zone, Date.parse(body.timestamp as string))}`;
      };
      // The same expected person always has the same stored visitor, and two people never share one.
      const visitorOf = new Map<string, string>();
      const personOf = new Map<string, string>();
      for (const { body } of sent) {
        const visitor = stored.get(body.event_id as string)!;
        const person = expectedKey(body);
        expect([person, visitorOf.get(person) ?? visitor]).toEqual([person, visitor]);
        expect([visitor, personOf.get(visitor) ?? person]).toEqual([visitor, person]);
        visitorOf.set(person, visitor);
        personOf.set(visitor, person);
      }
      expect(visitorOf.size).toBeGreaterThan(20);
    }
  });

  it('when the workload is asked 40 random questions per site, over random ranges, some with comparisons, then every row of every answer is exact', async () => {
    for (const { site, zone, firstMs, lastMs } of sites) {
      const events = await truthEvents(site);
      expect(events.length).toBeGreaterThan(400);
      const day = (ms: number) => localDay(zone, ms);
      for (let i = 0; i < 40; i += 1) {
        const q = randomQuery();
        // A random sub-range of whole days of the workload, or the whole of it.
        const from = firstMs + Math.floor(random() * (lastMs - firstMs));
        const range =
          random() < 0.3 ? [day(firstMs), day(lastMs)] : [day(from), day(from + random() * (lastMs - from))];
        const compare = random() < 0.3;
        const answer = await query(system.report, site, {
          ...q,
          date_range: range,
          include: { total_rows: true, ...(compare && { comparisons: { mode: 'previous_period' } }) },
        });
        const [start, end] = answer.query.date_range.map(Date.parse) as [number, number];
        const truth = truthAnswer(events, { ...q, startMs: start, endMs: end, zone });
        const got = new Map(answer.results.map((r) => [JSON.stringify(r.dimensions), r.metrics]));
        const context = `seed ${SEED}, ${zone}, ${range.join('..')}, query ${JSON.stringify(q)}`;
        expect({ context, rows: Object.fromEntries(got) }).toEqual({
          context,
          rows: Object.fromEntries(truth),
        });
        expect(answer.meta.total_rows).toBe(truth.size);
        if (!compare || q.dimensions.includes('time:day')) continue;
        // The previous period: as many days just before (whole days in the zone).
        const days = Math.round((end - start) / DAY);
        const previousStart = Date.parse(
          (
            await query(system.report, site, {
              metrics: ['visitors'],
              date_range: [day(start - days * DAY + DAY / 2), day(start - DAY / 2)],
            })
          ).query.date_range[0],
        );
        const before = truthAnswer(events, { ...q, startMs: previousStart, endMs: start, zone });
        for (const row of answer.results) {
          const old = before.get(JSON.stringify(row.dimensions)) ?? q.metrics.map(() => 0);
          expect({ context, row: row.dimensions, before: row.comparison!.metrics }).toEqual({
            context,
            row: row.dimensions,
            before: old,
          });
        }
      }
    }
  }, 120_000);

  it('when the range crosses New York’s DST change, then its day has 25 hourly labels and exact hours', async () => {
    const ny = sites.find((s) => s.zone === 'America/New_York')!;
    const answer = await query(system.report, ny.site, {
      metrics: ['visitors', 'pageviews'],
      date_range: ['2026-11-01', '2026-11-01'],
      dimensions: ['time:hour'],
      include: { time_labels: true },
    });
    expect(answer.meta.time_labels).toHaveLength(25);
    expect(answer.meta.time_labels).toContain('2026-11-01T01:00:00-04:00');
    expect(answer.meta.time_labels).toContain('2026-11-01T01:00:00-05:00');
    expect(answer.query.date_range).toEqual([
      '2026-11-01T00:00:00.000-04:00',
      '2026-11-02T00:00:00.000-05:00',
    ]);
    const events = await truthEvents(ny.site);
    // Each hour's figures from the raw events of that real hour.
    for (const row of answer.results) {
      const start = Date.parse(row.dimensions[0]!);
      const truth = truthAnswer(events, {
        metrics: ['visitors', 'pageviews'],
        dimensions: [],
        filters: [],
        startMs: start,
        endMs: start + HOUR,
        zone: ny.zone,
      });
      expect([row.dimensions[0], row.metrics]).toEqual([row.dimensions[0], truth.get('[]')]);
    }
    const total = answer.results.reduce((sum, r) => sum + (r.metrics[1] as number), 0);
    expect(total).toBe(
      truthAnswer(events, {
        metrics: ['pageviews'],
        dimensions: [],
        filters: [],
        startMs: Date.parse(answer.query.date_range[0]),
        endMs: Date.parse(answer.query.date_range[1]),
        zone: ny.zone,
      }).get('[]')![0],
    );
  });

  it('when a comparison with the previous period is asked, then each row carries the other period’s exact figures', async () => {
    const { site, zone, lastMs } = sites.find((s) => s.zone === 'Asia/Kathmandu')!;
    const day = (ms: number) => localDay(zone, ms);
    const answer = await query(system.report, site, {
      metrics: ['visitors', 'pageviews'],
      date_range: [day(lastMs - DAY), day(lastMs)],
      dimensions: ['visit:device'],
      include: { comparisons: { mode: 'previous_period' } },
    });
    const events = await truthEvents(site);
    const [start, end] = answer.query.date_range.map(Date.parse) as [number, number];
    const before = truthAnswer(events, {
      metrics: ['visitors', 'pageviews'],
      dimensions: ['visit:device'],
      filters: [],
      startMs: start - (end - start),
      endMs: start,
      zone,
    });
    expect(answer.results.length).toBeGreaterThan(0);
    for (const row of answer.results) {
      const old = before.get(JSON.stringify(row.dimensions)) ?? [0, 0];
      expect(row.comparison!.metrics).toEqual(old);
      expect(row.comparison!.change).toEqual(
        row.metrics.map((now, i) =>
          old[i] === 0 ? null : Math.round((1000 * ((now as number) - old[i]!)) / old[i]!) / 10,
        ),
      );
    }
  });

  it('when retention removes the raw events of New York’s weeks, then every answer about them stays the same', async () => {
    const ny = sites.find((s) => s.zone === 'America/New_York')!;
    const questions = [
      {
        metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'],
        date_range: ['2026-10-31', '2026-11-02'],
      },
      {
        metrics: ['visitors', 'pageviews'],
        date_range: ['2026-11-01', '2026-11-01'],
        dimensions: ['time:hour'],
      },
      {
        metrics: ['visitors', 'visits'],
        date_range: ['2026-10-30', '2026-11-03'],
        dimensions: ['visit:entry_page', 'visit:device'],
      },
      {
        metrics: ['visitors', 'events'],
        date_range: ['2026-10-30', '2026-11-03'],
        dimensions: ['event:props:plan'],
      },
    ];
    const before = [];
    for (const q of questions) before.push(await query(system.report, ny.site, q));
    const raw = getRawEventModel(system.ingestion.mongo);
    expect(await raw.countDocuments({ site_id: ny.site.siteId })).toBeGreaterThan(400);
    // The real retention job, keeping 10 days: New York's events are five weeks old.
    const job = createRetentionJob({
      mongo: system.ingestion.mongo,
      config: {
        retention: { days: 10, intervalMs: 60_000, batchSize: 500, batchPauseMs: 0 },
        jobHistoryDays: 30,
      },
      now: () => new Date(),
    });
    await job.run({ signal: new AbortController().signal, progress: { removed: 0, batches: 0 } } as never);
    expect(await raw.countDocuments({ site_id: ny.site.siteId })).toBe(0);
    for (const [i, q] of questions.entries())
      expect(await query(system.report, ny.site, q)).toEqual(before[i]);
  });
});
