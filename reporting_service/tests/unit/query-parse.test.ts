import fc from 'fast-check';
import type { AppError } from '@analytics/common';
import { validateRequestInput } from '@analytics/common';
import { parseQuery, resolveRange } from '../../src/services/query/query-parse.service';
import { comparisonRange, planQuery } from '../../src/services/query/query-plan.service';
import { roundRatio, compareCodePoints } from '../../src/services/query/query-execute.service';
import { queryBodySchema, type QueryBody } from '../../src/validations/query.validation';

const NOW = new Date('2026-12-07T18:00:00Z');
const site = (timezone: string) => ({ site_id: 'shop', timezone });

function body(extra: Record<string, unknown>): QueryBody {
  return validateRequestInput(queryBodySchema, {
    site_id: 'shop',
    metrics: ['visitors'],
    date_range: '7d',
    ...extra,
  });
}

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as AppError).details?.[0]?.field;
  }
  return undefined;
}

describe('query validation and parsing: the 400s name the field in the body', () => {
  it.each([
    [{ metrics: ['visitors', 'pageviews', 'nope'] }, 'metrics[2]'],
    [{ metrics: [] }, 'metrics'],
    [{ date_range: 'yesterday' }, 'date_range'],
    [{ dimensions: ['visit:colour'] }, 'dimensions[0]'],
    [{ pagination: { limit: 0 } }, 'pagination.limit'],
    [{ pagination: { offset: -1 } }, 'pagination.offset'],
    [{ include: { comparisons: { mode: 'last_week' } } }, 'include.comparisons.mode'],
    [{ order_by: [['visitors', 'up']] }, 'order_by[0][1]'],
    [{ site_id: 'a b' }, 'site_id'],
    [{ dimensions: ['event:page', 'event:page'] }, 'dimensions[1]'],
    [{ metrics: ['visitors', 'visitors'] }, 'metrics[1]'],
  ])('when the body has %j, then the field is %s (schema)', (extra, field) => {
    expect(fieldOf(() => body(extra))).toBe(field);
  });

  it.each([
    [{ filters: [['is', 'visit:colour', ['x']]] }, 'filters[0][1]'],
    [{ filters: [['matches', 'event:page', ['x']]] }, 'filters[0][0]'],
    [{ filters: [['is', 'event:page', []]] }, 'filters[0][2]'],
    [{ filters: [['is', 'event:page', ['/a', '']]] }, 'filters[0][2][1]'],
    [{ filters: [['is', 'time:day', ['2026-01-01']]] }, 'filters[0][1]'],
    [{ filters: [['not', ['is', 'event:page', ['/a']], 'extra']] }, 'filters[0]'],
    [
      {
        filters: [
          [
            'or',
            [
              ['is', 'event:page', ['/a']],
              ['is', 'visit:device', ['mobile']],
            ],
          ],
        ],
      },
      'filters[0]',
    ],
    [
      {
        filters: [
          [
            'and',
            [
              ['is', 'event:page', ['/a']],
              ['is', 'visit:nope', ['x']],
            ],
          ],
        ],
      },
      'filters[0][1][1][1]',
    ],
    [{ metrics: ['visitors', 'bounce_rate'], dimensions: ['event:page'] }, 'metrics[1]'],
    [{ order_by: [['pageviews', 'desc']] }, 'order_by[0][0]'],
    [{ dimensions: ['time:hour'], date_range: ['2026-01-01', '2026-03-01'] }, 'dimensions[0]'],
    [{ dimensions: ['time:day', 'time:month'] }, 'dimensions[1]'],
    [{ date_range: ['2020-01-01', '2026-01-02'] }, 'date_range'],
    [{ date_range: ['2026-12-01T10:05:00Z', '2026-12-01T11:00:00Z'] }, 'date_range[0]'],
    [{ date_range: ['2026-02-30', '2026-03-01'] }, 'date_range[0]'],
    [{ metrics: ['percentage'] }, 'metrics[0]'],
  ])('when the query has %j, then the field is %s (parse)', (extra, field) => {
    expect(fieldOf(() => parseQuery(body(extra), site('Etc/UTC'), NOW))).toBe(field);
  });

  it('when a visit-level and an event-level filter are both at the top level, then both hold (no 400)', () => {
    const parsed = parseQuery(
      body({
        filters: [
          ['is', 'event:page', ['/a']],
          ['and', [['is', 'visit:device', ['mobile']]]],
        ],
      }),
      site('Etc/UTC'),
      NOW,
    );
    expect(parsed.eventFilters).toHaveLength(1);
    expect(parsed.visitFilters).toHaveLength(1);
  });

  it('when random bodies are sent, then parsing answers a query or a 400 naming a field, never anything else', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(
        fc.record(
          { metrics: json, date_range: json, dimensions: json, filters: json, order_by: json },
          { requiredKeys: [] },
        ),
        (extra) => {
          try {
            parseQuery(body(extra), site('Asia/Kathmandu'), NOW);
          } catch (error) {
            expect((error as AppError).status).toBe(400);
            expect((error as AppError).details?.[0]?.field).toMatch(/^[a-z_]+/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('date ranges in the site zone', () => {
  it.each([
    ['Etc/UTC', 'day', '2026-12-07T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
    // 18:00 UTC is 23:30 on 7 December in Kolkata and 23:45 in Kathmandu: their day began the evening before.
    ['Asia/Kolkata', 'day', '2026-12-06T18:30:00.000Z', '2026-12-07T18:30:00.000Z'],
    ['Asia/Kathmandu', 'day', '2026-12-06T18:15:00.000Z', '2026-12-07T18:15:00.000Z'],
    ['America/New_York', 'day', '2026-12-07T05:00:00.000Z', '2026-12-08T05:00:00.000Z'],
    ['Etc/UTC', '7d', '2026-12-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
    ['Etc/UTC', 'month', '2026-12-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
    ['Etc/UTC', '6mo', '2026-07-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
    ['Etc/UTC', 'year', '2026-01-01T00:00:00.000Z', '2026-12-08T00:00:00.000Z'],
    ['Etc/UTC', '24h', '2026-12-06T19:00:00.000Z', '2026-12-07T19:00:00.000Z'],
    ['Asia/Kathmandu', '24h', '2026-12-06T18:15:00.000Z', '2026-12-07T18:15:00.000Z'],
  ] as const)('in %s, %s is [%s, %s)', (zone, shortcut, start, end) => {
    const range = resolveRange(shortcut, zone, NOW, undefined);
    expect([range.start.toUTC().toISO(), range.end.toUTC().toISO()]).toEqual([start, end]);
  });

  it('when New York leaves DST, then 2026-11-01 lasts 25 hours, with 25 distinct hour labels', () => {
    const parsed = parseQuery(
      body({ date_range: ['2026-11-01', '2026-11-01'], dimensions: ['time:hour'] }),
      site('America/New_York'),
      NOW,
    );
    const plan = planQuery(parsed);
    expect(plan.main.endMs - plan.main.startMs).toBe(25 * 3_600_000);
    expect(plan.main.labels).toHaveLength(25);
    expect(new Set(plan.main.labels).size).toBe(25);
    expect(plan.main.labels.slice(1, 3)).toEqual(['2026-11-01T01:00:00-04:00', '2026-11-01T01:00:00-05:00']);
  });

  it('when New York enters DST, then 2026-03-08 lasts 23 hours', () => {
    const plan = planQuery(
      parseQuery(
        body({ date_range: ['2026-03-08', '2026-03-08'], dimensions: ['time:hour'] }),
        site('America/New_York'),
        NOW,
      ),
    );
    expect(plan.main.labels).toHaveLength(23);
  });

  it('when weeks and months cut the range, then they are labelled by their first day inside it', () => {
    const plan = planQuery(
      parseQuery(
        body({ date_range: ['2026-03-04', '2026-04-10'], dimensions: ['time:week'] }),
        site('Etc/UTC'),
        NOW,
      ),
    );
    expect(plan.main.labels.slice(0, 2)).toEqual(['2026-03-04', '2026-03-09']);
    const months = planQuery(
      parseQuery(
        body({ date_range: ['2026-03-04', '2026-04-10'], dimensions: ['time:month'] }),
        site('Etc/UTC'),
        NOW,
      ),
    );
    expect(months.main.labels).toEqual(['2026-03-04', '2026-04-01']);
  });

  it('when comparing, then the previous period is as many days just before, and year over year the same dates', () => {
    const range = resolveRange(['2026-03-01', '2026-03-07'], 'Asia/Kolkata', NOW, undefined);
    const previous = comparisonRange(range, 'previous_period');
    expect([previous.start.toISODate(), previous.end.toISODate()]).toEqual(['2026-02-22', '2026-03-01']);
    const lastYear = comparisonRange(range, 'year_over_year');
    expect([lastYear.start.toISODate(), lastYear.end.toISODate()]).toEqual(['2025-03-01', '2025-03-08']);
  });
});

describe('rounding and ordering', () => {
  it.each([
    [1, 8, 1, 0.1], // 12.5 % → 0.1 at one decimal of the ratio itself
    [125, 1000, 2, 0.13],
    [-125, 1000, 2, -0.13],
    [1, 3, 2, 0.33],
    [2, 3, 0, 1],
    [5, 10, 0, 1],
    [0, 0, 1, 0],
  ])('roundRatio(%d, %d, %d) is %d (half away from zero)', (num, den, decimals, expected) => {
    expect(roundRatio(num, den, decimals)).toBe(expected);
  });

  it('orders by code point, not by UTF-16 unit', () => {
    expect(compareCodePoints('\u{1F600}', '\uFF5E')).toBeGreaterThan(0);
    expect('\u{1F600}' < '\uFF5E').toBe(true);
  });
});
