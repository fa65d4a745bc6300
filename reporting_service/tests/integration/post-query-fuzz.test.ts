import fc from 'fast-check';
import { getVisitPartModel, visitPartId, type VisitPartDocument } from '@analytics/common';
import { insertTestSite, type TestSite } from '@analytics/testkit';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

/**
 * No query a fuzzer sends gets a 500: every body is answered 200 or a 400 naming a field. The bodies mix
 * valid fragments (so many reach execution, with data to execute on) with arbitrary JSON.
 */
let h: ReportingHarness;
let site: TestSite;

beforeAll(async () => {
  h = await startReportingHarness({ QUERY_RATE_LIMIT_PER_HOUR: '100000' });
  site = await insertTestSite(h.mongo);
  const parts: VisitPartDocument[] = [];
  for (let i = 0; i < 60; i += 1) {
    const at = new Date(Date.now() - i * 47 * 60_000);
    const key = {
      site_id: site.siteId,
      visitor: `u:${i % 7}`,
      b: new Date(Math.floor(at.getTime() / 900_000) * 900_000),
      name: i % 4 ? 'page_view' : 'signup',
      page: `/p${i % 5}`,
      ...(i % 3 === 0 && { props: [{ key: 'plan', value: i % 2 ? 'pro' : 1 }] }),
    };
    parts.push({
      _id: visitPartId(key),
      ...key,
      n: 1 + (i % 3),
      ft: at,
      fi: `e${i}`,
      f: { source: i % 2 ? 'Google' : 'Direct / None', device: 'mobile', country: 'DE' },
      lt: at,
      li: `e${i}`,
    });
  }
  await getVisitPartModel(h.mongo).collection.insertMany(parts as never[]);
});
afterAll(async () => {
  await h?.close();
});

/** Mostly valid (so most bodies reach execution), sometimes anything. */
const mostly = <T>(valid: fc.Arbitrary<T>, junk: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid as fc.Arbitrary<unknown>, weight: 12 }, { arbitrary: junk, weight: 1 });
const metric = mostly(
  fc.constantFrom(
    'visitors',
    'pageviews',
    'events',
    'visits',
    'bounce_rate',
    'visit_duration',
    'views_per_visit',
    'percentage',
  ),
  fc.constantFrom('nope', ''),
);
const dimension = mostly(
  fc.constantFrom(
    'event:page',
    'event:name',
    'event:props:plan',
    'visit:source',
    'visit:device',
    'visit:entry_page',
    'visit:exit_page',
    'visit:country',
    'time',
    'time:day',
    'time:week',
    'time:month',
  ),
  fc.constantFrom('visit:nope', 'event:props:', 'time:hour'),
);
const op = mostly(
  fc.constantFrom('is', 'is_not', 'contains', 'contains_not'),
  fc.constantFrom('and', 'or', 'not', 'matches'),
);
const leaf = fc.tuple(
  op,
  dimension,
  fc.array(fc.oneof(fc.string(), fc.constantFrom('/p1', 'Google', 'pro', 'mobile')), { maxLength: 3 }),
);
const filter = mostly(
  fc.oneof(
    leaf,
    fc.tuple(fc.constantFrom('and', 'or'), fc.array(leaf, { minLength: 1, maxLength: 3 })),
    fc.tuple(fc.constant('not'), leaf),
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const day = fc
  .integer({ min: -800, max: 3 })
  .map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10));
const dateRange = mostly(
  fc.oneof(
    fc.constantFrom('day', '24h', '7d', '28d', '30d', '91d', 'month', '6mo', '12mo', 'year', 'all'),
    fc.tuple(day, day).map(([x, y]) => (x <= y ? [x, y] : [y, x])),
  ),
  fc.oneof(
    fc.tuple(
      fc.constantFrom('2026-11-01T00:00:00Z', '2026-11-01T00:10:00Z', 'x'),
      fc.constantFrom('2026-11-02T05:45:00+05:45', '2026-11-01T00:00:00Z'),
    ),
    fc.constantFrom('week'),
    fc.jsonValue({ maxDepth: 1 }),
  ),
);
const body = fc.record(
  {
    metrics: mostly(fc.uniqueArray(metric, { minLength: 1, maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
    date_range: dateRange,
    dimensions: mostly(fc.uniqueArray(dimension, { maxLength: 2 }), fc.jsonValue({ maxDepth: 1 })),
    filters: mostly(fc.array(filter, { maxLength: 2 }), fc.jsonValue({ maxDepth: 1 })),
    order_by: fc.array(fc.tuple(fc.oneof(metric, dimension), fc.constantFrom('asc', 'desc', 'up')), {
      maxLength: 1,
    }),
    include: fc.record(
      {
        time_labels: fc.boolean(),
        total_rows: fc.boolean(),
        comparisons: fc.option(
          fc.record({ mode: fc.constantFrom('previous_period', 'year_over_year', 'x') }),
        ),
      },
      { requiredKeys: [] },
    ),
    pagination: fc.record(
      { limit: fc.integer({ min: 0, max: 10_001 }), offset: fc.integer({ min: -1, max: 50 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['metrics', 'date_range'] },
);

describe('POST /api/v2/query under a fuzzer', () => {
  it('when 400 random bodies are sent, then each is answered 200 or 400 naming a field, never 500', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(body, async (fields) => {
        const res = await h.http
          .post('/api/v2/query')
          .set('authorization', `Bearer ${site.readKey}`)
          .send({ site_id: site.siteId, ...fields });
        expect([200, 400]).toContain(res.status);
        if (res.status === 400) expect(res.body.details[0].field).toMatch(/^[a-z_]+/);
        else answered += 1;
      }),
      { numRuns: 400 },
    );
    // The generator reaches execution, not only validation.
    expect(answered).toBeGreaterThan(30);
  }, 120_000);
});
