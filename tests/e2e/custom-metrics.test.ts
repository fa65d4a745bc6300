import { Queue } from 'bullmq';
import {
  getMetricPointModel,
  getMetricRollupModel,
  getMetricWriteModel,
  getSiteModel,
  metricQueueName,
} from '@analytics/common';
import { waitFor, type TestSite } from '@analytics/testkit';
import { fsum, truthOf, type TruthAggregates } from '../support/metric-ground-truth';
import { waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** An instant `days` before today's UTC midnight plus `minutes`. */
const at = (days: number, minutes: number) => today - days * DAY_MS + minutes * MINUTE_MS;
const isoAt = (ms: number) => new Date(ms).toISOString();

interface Point {
  site_id: string;
  name: string;
  value: number;
  timestamp?: string;
  metric_id?: string;
  tags?: Record<string, string | number | boolean>;
}

let system: TestSystem;
let metricQueue: Queue;

async function postMetrics(site: TestSite, metrics: Point[]) {
  return system.ingest.post('/metrics').set('x-api-key', site.writeKey).send({ metrics });
}

async function query(site: TestSite, params: string): Promise<Record<string, unknown>> {
  const res = await system.report
    .get(`/metrics/query?site_id=${site.siteId}&${params}`)
    .set('authorization', `Bearer ${site.readKey}`);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

/** Waits until the site holds `points` stored points and every metric write is applied. */
async function waitForPoints(site: TestSite, points: number): Promise<void> {
  await waitForDrain(metricQueue, 60_000);
  await waitFor(
    async () => {
      const stored = await getMetricPointModel(system.ingestion.mongo).countDocuments({
        site_id: site.siteId,
      });
      const unapplied = await getMetricWriteModel(system.ingestion.mongo).countDocuments({ applied: false });
      return stored === points && unapplied === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, what: `${points} stored metric points of ${site.siteId}, all applied` },
  );
}

async function setTimezone(site: TestSite, timezone: string): Promise<void> {
  await getSiteModel(system.ingestion.mongo).updateOne({ site_id: site.siteId }, { $set: { timezone } });
}

/** What the answer must hold for `values` (mean within one rounding of fsum / count). */
function expectAggregates(actual: Record<string, unknown>, truth: TruthAggregates): void {
  expect(actual.count).toBe(truth.count);
  expect(actual.sum).toBe(truth.sum);
  expect(actual.min).toBe(truth.min);
  expect(actual.max).toBe(truth.max);
  expect(actual.median).toBe(truth.median);
  expect(actual.p95).toBe(truth.p95);
  const mean = actual.mean as number;
  expect(Math.abs(mean - truth.approxMean)).toBeLessThanOrEqual(Math.abs(truth.approxMean) * Number.EPSILON);
}

beforeAll(async () => {
  system = await startSystem({ ingestionEnv: { MAX_EVENT_AGE_HOURS: String(24 * 10) } });
  metricQueue = new Queue(metricQueueName(system.env.QUEUE_NAME!), {
    connection: { url: system.env.REDIS_URL!, maxRetriesPerRequest: null },
    prefix: system.env.REDIS_PREFIX,
  });
}, 60_000);

afterAll(async () => {
  await metricQueue.obliterate({ force: true }).catch(() => undefined);
  await metricQueue.close();
  await system.close();
}, 60_000);

describe('POST /metrics → processor → GET /metrics/query', () => {
  it('when one point is sent, then it answers 202 with its id, and the point and its rollups are stored', async () => {
    const site = await system.newSite();
    const res = await system.ingest
      .post('/metrics')
      .set('x-api-key', site.writeKey)
      .send({ site_id: site.siteId, name: 'checkout.latency ms', value: 12.5, tags: { plan: 'pro', n: 3 } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ success: true, metric_id: expect.any(String) });
    await waitForPoints(site, 1);

    const stored = await getMetricPointModel(system.ingestion.mongo)
      .findOne({ site_id: site.siteId, metric_id: res.body.metric_id })
      .lean();
    expect(stored).toMatchObject({
      name: 'checkout.latency ms',
      value: 12.5,
      tag_pairs: ['n\u00003', 'plan\u0000pro'],
    });
    const rollups = await getMetricRollupModel(system.ingestion.mongo).find({ site_id: site.siteId }).lean();
    expect(rollups.map((r) => r.period).sort()).toEqual(['d', 'h', 'm', 'q']);
    for (const rollup of rollups) expect(rollup).toMatchObject({ count: 1, min: 12.5, max: 12.5 });

    const today_ = isoAt(Date.now()).slice(0, 10);
    const body = await query(
      site,
      `name=${encodeURIComponent('checkout.latency ms')}&from=${today_}&to=${today_}&interval=day&aggs=count,sum,mean,min,max,median,p95&tag.plan=pro&tag.n=3`,
    );
    expect(body.series).toEqual([
      { time: today_, count: 1, sum: 12.5, mean: 12.5, min: 12.5, max: 12.5, median: 12.5, p95: 12.5 },
    ]);
    const other = await query(
      site,
      `name=${encodeURIComponent('checkout.latency ms')}&from=${today_}&to=${today_}&tag.plan=free`,
    );
    expect(other.series).toEqual([]);
    expect(other.total).toMatchObject({ count: 0 });
  });

  it('when windows hold an even count, an odd count, negatives, one point or nothing, then every aggregation is what the test computes', async () => {
    const site = await system.newSite();
    // Three UTC days of yesterday, two and three days ago; values chosen by hand, nearest-rank by hand.
    const windows: Record<string, number[]> = {
      [isoAt(at(1, 600)).slice(0, 10)]: [-5, 3, 1, -2], // even: median = 2nd of 4 = -2; p95 = 4th = 3
      [isoAt(at(2, 600)).slice(0, 10)]: [7, -1, 3], // odd: median = 2nd of 3 = 3; p95 = 3rd = 7
      [isoAt(at(3, 600)).slice(0, 10)]: [-0.5], // one point
    };
    const points: Point[] = [];
    for (const [day, values] of Object.entries(windows)) {
      values.forEach((value, i) =>
        points.push({
          site_id: site.siteId,
          name: 'hand',
          value,
          timestamp: `${day}T10:0${i}:00.000Z`,
          metric_id: `${day}-${i}`,
        }),
      );
    }
    expect((await postMetrics(site, points)).status).toBe(202);
    await waitForPoints(site, 8);
    const from = isoAt(at(4, 0)).slice(0, 10); // four days ago: an empty window, left out
    const to = isoAt(at(1, 0)).slice(0, 10);
    const body = await query(
      site,
      `name=hand&from=${from}&to=${to}&interval=day&aggs=count,sum,mean,min,max,median,p95`,
    );
    expect(body.series).toEqual([
      {
        time: isoAt(at(3, 0)).slice(0, 10),
        count: 1,
        sum: -0.5,
        mean: -0.5,
        min: -0.5,
        max: -0.5,
        median: -0.5,
        p95: -0.5,
      },
      { time: isoAt(at(2, 0)).slice(0, 10), count: 3, sum: 9, mean: 3, min: -1, max: 7, median: 3, p95: 7 },
      {
        time: isoAt(at(1, 0)).slice(0, 10),
        count: 4,
        sum: -3,
        mean: -0.75,
        min: -5,
        max: 3,
        median: -2,
        p95: 3,
      },
    ]);
    // All eight: -5 -2 -1 -0.5 1 3 3 7 → median 4th = -0.5, p95 8th = 7, sum 5.5.
    expect(body.total).toMatchObject({
      count: 8,
      sum: 5.5,
      mean: 0.6875,
      min: -5,
      max: 7,
      median: -0.5,
      p95: 7,
    });
    const empty = await query(site, `name=hand&from=${from}&to=${from}&interval=day&aggs=count,sum,median`);
    expect(empty.series).toEqual([]);
    expect(empty.total).toMatchObject({ count: 0 });
  });

  it('when a value is NaN, a string, or beyond float64 (1e309), then 400 names the field', async () => {
    const site = await system.newSite();
    const raw = (value: string) =>
      system.ingest
        .post('/metrics')
        .set('x-api-key', site.writeKey)
        .set('content-type', 'application/json')
        .send(`{"site_id": "${site.siteId}", "name": "bad", "value": ${value}}`);
    for (const value of ['1e309', '-1e309', '"NaN"', '"12"', 'null', 'true']) {
      const res = await raw(value);
      expect([value, res.status, res.body.details?.[0]?.field]).toEqual([value, 400, 'value']);
    }
    // A bare NaN is not JSON: the body is refused as malformed.
    const nan = await raw('NaN');
    expect(nan.status).toBe(400);
    expect(nan.body.code).toBe('malformed-json');
  });

  it('when a batch holds one bad point, then the whole batch is refused with its field, and nothing is enqueued', async () => {
    const site = await system.newSite();
    const before = await metricQueue.getJobCounts('waiting', 'active', 'completed', 'delayed');
    const metrics: Point[] = Array.from({ length: 5 }, (_, i) => ({
      site_id: site.siteId,
      name: 'batch',
      value: i,
      metric_id: `bad-batch-${i}`,
    }));
    (metrics[3] as unknown as Record<string, unknown>).value = 'seven';
    const res = await postMetrics(site, metrics);
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'metrics[3].value' })]);
    const tooLong = await postMetrics(site, [{ site_id: site.siteId, name: 'x'.repeat(121), value: 1 }]);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.details[0].field).toBe('metrics[0].name');
    const control = await postMetrics(site, [{ site_id: site.siteId, name: 'a\u0007b', value: 1 }]);
    expect(control.status).toBe(400);
    const old = await postMetrics(site, [
      { site_id: site.siteId, name: 'a', value: 1, timestamp: isoAt(at(11, 0)) },
    ]);
    expect(old.status).toBe(400);
    expect(old.body.details[0].field).toBe('metrics[0].timestamp');
    const noKey = await system.ingest.post('/metrics').send({ site_id: site.siteId, name: 'a', value: 1 });
    expect(noKey.status).toBe(401);

    expect(await metricQueue.getJobCounts('waiting', 'active', 'completed', 'delayed')).toEqual(before);
    expect(await getMetricPointModel(system.ingestion.mongo).countDocuments({ site_id: site.siteId })).toBe(
      0,
    );
  });

  it('when the same metric_id is sent again (alone, in a batch, twice in one batch), then it counts once', async () => {
    const site = await system.newSite();
    const point = {
      site_id: site.siteId,
      name: 'dup',
      value: 5,
      metric_id: 'dup-1',
      timestamp: isoAt(at(1, 60)),
    };
    expect((await system.ingest.post('/metrics').set('x-api-key', site.writeKey).send(point)).status).toBe(
      202,
    );
    await waitForPoints(site, 1);
    const again = await postMetrics(site, [point, point, { ...point, metric_id: 'dup-2', value: 7 }]);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: 3, metric_ids: ['dup-1', 'dup-1', 'dup-2'] });
    await waitForPoints(site, 2);
    const day = isoAt(at(1, 0)).slice(0, 10);
    const body = await query(site, `name=dup&from=${day}&to=${day}&aggs=count,sum,min,max`);
    expect(body.total).toEqual({ count: 2, sum: 12, min: 5, max: 7 });
    const daily = await getMetricRollupModel(system.ingestion.mongo)
      .find({ site_id: site.siteId, period: 'd' })
      .lean();
    expect(daily).toHaveLength(1);
    expect(daily[0]).toMatchObject({ count: 2 });
  });

  it('when the site is in Asia/Kathmandu (+05:45), then day buckets are its local days', async () => {
    const site = await system.newSite();
    await setTimezone(site, 'Asia/Kathmandu');
    const offset = (5 * 60 + 45) * MINUTE_MS;
    // Around local midnight: 18:14, 18:15 and 18:16 UTC are 23:59, 00:00 and 00:01 in Kathmandu.
    const instants = [
      at(3, 18 * 60 + 14),
      at(3, 18 * 60 + 15),
      at(3, 18 * 60 + 16),
      at(2, 12 * 60),
      at(2, 18 * 60 + 14),
    ];
    const values = [1e16, 1, -1e16, 0.1, 0.2];
    const res = await postMetrics(
      site,
      instants.map((ms, i) => ({
        site_id: site.siteId,
        name: 'ktm',
        value: values[i]!,
        timestamp: isoAt(ms),
      })),
    );
    expect(res.status).toBe(202);
    await waitForPoints(site, instants.length);

    const localDay = (ms: number) => isoAt(ms + offset).slice(0, 10);
    const byDay = new Map<string, number[]>();
    instants.forEach((ms, i) => byDay.set(localDay(ms), [...(byDay.get(localDay(ms)) ?? []), values[i]!]));
    const days = [...byDay.keys()].sort();
    const body = await query(
      site,
      `name=ktm&from=${days[0]}&to=${days[days.length - 1]}&interval=day&aggs=count,sum,mean,min,max,median,p95`,
    );
    expect(body).toMatchObject({ name: 'ktm', interval: 'day', timezone: 'Asia/Kathmandu' });
    expect((body.series as { time: string }[]).map((s) => s.time)).toEqual(days);
    for (const item of body.series as Record<string, unknown>[]) {
      expectAggregates(item, truthOf(byDay.get(item.time as string)!));
    }
    expectAggregates(body.total as Record<string, unknown>, truthOf(values));
    // The naive sum of the first local day would be 0 (1e16 + 1 - 1e16 in order): the exact one is 1.
    expect((body.series as Record<string, unknown>[])[0]).toMatchObject({
      time: localDay(instants[0]!),
      sum: 1e16,
    });
    expect((body.series as Record<string, unknown>[])[1]).toMatchObject({ sum: fsum([1, -1e16, 0.1, 0.2]) });
  });

  it('when a sum overflows, then it is null with overflow: true, and the mean stays exact', async () => {
    const site = await system.newSite();
    const ts = isoAt(at(1, 30));
    const res = await postMetrics(site, [
      { site_id: site.siteId, name: 'huge', value: 1.5e308, timestamp: ts },
      { site_id: site.siteId, name: 'huge', value: 1.7e308, timestamp: ts },
    ]);
    expect(res.status).toBe(202);
    await waitForPoints(site, 2);
    const day = ts.slice(0, 10);
    const body = await query(site, `name=huge&from=${day}&to=${day}&aggs=count,sum,mean,max`);
    expect(body.total).toEqual({ count: 2, sum: null, overflow: true, mean: 1.6e308, max: 1.7e308 });
  });

  it('when a backlog of 2,000 points arrives at once, then every bucket matches the ground truth, and resending changes nothing', async () => {
    const site = await system.newSite();
    await setTimezone(site, 'Asia/Kolkata');
    // 10:10–10:50 UTC on one day: two local hours of Kolkata (+05:30), split at 10:30 UTC.
    const start = at(1, 10 * 60 + 10);
    const regions = ['eu', 'us', 'ap'];
    const adversarial = [1e16, 1, -1e16, 0.1, 0.2, 0.3, 1e-300, -2.5, 3e15];
    const points: Point[] = Array.from({ length: 2000 }, (_, i) => ({
      site_id: site.siteId,
      name: 'api.duration',
      metric_id: `bl-${i}`,
      value: i % 7 === 0 ? adversarial[i % adversarial.length]! : ((i * 7919) % 1000) / 7,
      timestamp: isoAt(start + ((i * 37) % 40) * MINUTE_MS + (i % 60) * 1000),
      tags: (i % 5 === 0
        ? { region: regions[i % 3]!, tier: 1 }
        : { region: regions[i % 3]! }) as Point['tags'],
    }));
    const responses = await Promise.all(
      [0, 1, 2, 3].map((k) => postMetrics(site, points.slice(k * 500, (k + 1) * 500))),
    );
    for (const res of responses) expect(res.status).toBe(202);
    await waitForPoints(site, points.length);

    const offset = 330 * MINUTE_MS;
    const hourLabel = (ms: number) => {
      const wall = Math.floor((ms + offset) / 3_600_000) * 3_600_000;
      return `${isoAt(wall).slice(0, 19)}+05:30`;
    };
    const check = async (filter: (p: Point) => boolean, tagParams: string) => {
      const chosen = points.filter(filter);
      const byHour = new Map<string, number[]>();
      for (const p of chosen) {
        const label = hourLabel(Date.parse(p.timestamp!));
        byHour.set(label, [...(byHour.get(label) ?? []), p.value]);
      }
      const day = isoAt(start + offset).slice(0, 10);
      const body = await query(
        site,
        `name=api.duration&from=${day}&to=${day}&interval=hour&aggs=count,sum,mean,min,max,median,p95${tagParams}`,
      );
      const series = body.series as Record<string, unknown>[];
      expect(series.map((s) => s.time)).toEqual([...byHour.keys()].sort());
      for (const item of series) expectAggregates(item, truthOf(byHour.get(item.time as string)!));
      expectAggregates(body.total as Record<string, unknown>, truthOf(chosen.map((p) => p.value)));
      expect(body.approximate).toBeUndefined();
    };
    await check(() => true, '');
    await check((p) => p.tags!.region === 'eu', '&tag.region=eu');
    await check((p) => p.tags!.region === 'us' && p.tags!.tier === 1, '&tag.region=us&tag.tier=1');

    // Stored state: each point once, and the daily rollups add up to the points.
    const daily = await getMetricRollupModel(system.ingestion.mongo)
      .find({ site_id: site.siteId, period: 'd' })
      .lean();
    expect(daily.reduce((n, r) => n + r.count, 0)).toBe(points.length);

    // The whole backlog again (a client retrying after a 503): nothing changes.
    const again = await Promise.all(
      [0, 1, 2, 3].map((k) => postMetrics(site, points.slice(k * 500, (k + 1) * 500))),
    );
    for (const res of again) expect(res.status).toBe(202);
    await waitForPoints(site, points.length);
    await check(() => true, '');
  }, 180_000);

  it('when raw points older than retention are gone, then percentiles come from the summaries, marked approximate', async () => {
    const site = await system.newSite();
    const values = Array.from({ length: 50 }, (_, i) => (i + 1) * 3.3);
    const res = await postMetrics(
      site,
      values.map((value, i) => ({
        site_id: site.siteId,
        name: 'ret',
        value,
        timestamp: isoAt(at(2, 100 + i)),
      })),
    );
    expect(res.status).toBe(202);
    await waitForPoints(site, values.length);
    await getMetricPointModel(system.ingestion.mongo).deleteMany({
      site_id: site.siteId,
      timestamp: { $lt: new Date(at(2, 120)) },
    });
    const day = isoAt(at(2, 0)).slice(0, 10);
    const body = await query(site, `name=ret&from=${day}&to=${day}&aggs=count,sum,min,max,median,p95`);
    const truth = truthOf(values);
    expect(body.approximate).toBe(true);
    expect(body.relative_error_bound).toBe(0.01);
    const total = body.total as Record<string, number>;
    expect(total).toMatchObject({ count: 50, sum: truth.sum, min: truth.min, max: truth.max });
    expect(Math.abs(total.median! - truth.median)).toBeLessThanOrEqual(0.01 * truth.median);
    expect(Math.abs(total.p95! - truth.p95)).toBeLessThanOrEqual(0.01 * truth.p95);
  });

  it('when a malformed job reaches the metrics queue, then it fails at once without retries and stores nothing', async () => {
    const job = await metricQueue.add(
      'ingest-metrics',
      {
        v: 1,
        requests: [{ request_id: 'poison', received_at: isoAt(Date.now()), points: [{ site_id: 'x' }] }],
      },
      { attempts: 5 },
    );
    const failed = await waitFor(
      async () => {
        const state = await job.getState();
        return state === 'failed' ? await metricQueue.getJob(job.id!) : undefined;
      },
      { timeoutMs: 10_000, what: 'the poison metric job to fail' },
    );
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/malformed payload/);
    expect(await getMetricPointModel(system.ingestion.mongo).countDocuments({ request_id: 'poison' })).toBe(
      0,
    );
  });

  it("when the query is malformed or the key is another site's, then 400 names the field and 403 refuses", async () => {
    const site = await system.newSite();
    const other = await system.newSite();
    const bad = await system.report
      .get(`/metrics/query?site_id=${site.siteId}&name=x&from=2026-01-01&to=2026-01-02&interval=minute`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('to');
    const aggs = await system.report
      .get(`/metrics/query?site_id=${site.siteId}&name=x&from=2026-01-01&to=2026-01-01&aggs=count,p99`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(aggs.status).toBe(400);
    expect(aggs.body.details[0].field).toBe('aggs');
    const operator = await system.report
      .get(`/metrics/query?site_id[$ne]=x&name=x&from=2026-01-01&to=2026-01-01`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(operator.status).toBe(400);
    const forbidden = await system.report
      .get(`/metrics/query?site_id=${site.siteId}&name=x&from=2026-01-01&to=2026-01-01`)
      .set('authorization', `Bearer ${other.readKey}`);
    expect(forbidden.status).toBe(403);
  });
});
