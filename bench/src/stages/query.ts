import {
  getVisitPartModel,
  PAGE_VIEW,
  VISIT_BUCKET_MS,
  visitPartId,
  type VisitFields,
  type VisitPartDocument,
} from '@analytics/common';
import { insertTestSite, type TestSite } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { type Cleanup, freshDatabase, startService, type BenchContext, type Started } from '../context';
import { send, summarise } from '../load';
import { cpuSeconds } from '../processes';
import type { QueryVolume, RunResult } from '../results';

/**
 * POST /api/v2/query at two data volumes (issue: "documents read and latency for a 30-day breakdown at
 * two data volumes (5× the events, same visitors and values)"). The visit parts are inserted straight into
 * the database (insertMany, ids from visitPartId): the same documents in two sites, with every count `n`
 * 5× larger in the second. The answer's `meta.documents_read` must not change; the latency should barely.
 */

const DAY_MS = 24 * 3_600_000;
const VISITORS = 300;
const DAYS = 30;
/** Each visitor comes on 3 of the 30 days (10 days apart), once a day. */
const VISITS_PER_VISITOR = 3;
const PAGES = 10;
const SOURCES = ['Google', 'Direct', 'Twitter', 'Newsletter', 'GitHub'];
const DEVICES = ['Desktop', 'Mobile', 'Tablet'];
const INSERT_CHUNK = 500;

/** The three breakdowns timed; visit metrics cannot go with an `event:*` dimension (contract). */
export const QUERY_BREAKDOWNS = {
  'visit:source': ['visitors', 'visits', 'pageviews', 'bounce_rate'],
  'event:page': ['visitors', 'pageviews', 'events'],
  'time:day': ['visitors', 'visits', 'pageviews', 'bounce_rate'],
} as const;
export type QueryBreakdown = keyof typeof QUERY_BREAKDOWNS;

/**
 * One site's visit parts, days `firstDay` .. `firstDay + 29` (UTC midnights), every count × `factor`.
 * Visit kinds cycle: a bounce (one page view), two page views, two page views and a `signup` event with a
 * prop. Visits start between 08:00 and 20:00 UTC, so none reaches within 30 minutes of the range's edges
 * (no extension reads: documents read = the parts of the range). 1,800 parts per site.
 */
export function visitParts(siteId: string, firstDay: number, factor: number): VisitPartDocument[] {
  const parts: VisitPartDocument[] = [];
  for (let i = 0; i < VISITORS; i++) {
    const visitor = `u:bench-visitor-${i}`;
    for (let v = 0; v < VISITS_PER_VISITOR; v++) {
      const day = firstDay + ((i + v * 10) % DAYS) * DAY_MS;
      const start = day + (8 + ((i * 7 + v) % 12)) * 3_600_000 + (i % 4) * VISIT_BUCKET_MS;
      const fields: VisitFields = {
        source: SOURCES[(i + v) % SOURCES.length]!,
        device: DEVICES[i % DEVICES.length]!,
        country: i % 2 === 0 ? 'DE' : 'US',
      };
      const kind = (i + v) % 3;
      const shapes: { name: string; page?: string; n: number; prop?: boolean }[] = [
        { name: PAGE_VIEW, page: `/page-${(i + v) % PAGES}`, n: kind === 0 ? 1 : 2 },
        ...(kind > 0 ? [{ name: PAGE_VIEW, page: `/page-${(i + v + 1) % PAGES}`, n: 1 }] : []),
        ...(kind === 2 ? [{ name: 'signup', page: `/page-${(i + v + 1) % PAGES}`, n: 1, prop: true }] : []),
      ];
      shapes.forEach((shape, j) => {
        const b = new Date(start + j * VISIT_BUCKET_MS);
        const key = {
          site_id: siteId,
          visitor,
          b,
          name: shape.name,
          ...(shape.page !== undefined && { page: shape.page }),
          ...(shape.prop && { props: [{ key: 'plan', value: 'pro' }] }),
        };
        const n = shape.n * factor;
        const ft = new Date(b.getTime() + 60_000 + (i % 5) * 1000);
        const id = `e-${i}-${v}-${j}`;
        parts.push({
          _id: visitPartId(key),
          ...key,
          n,
          ft,
          fi: `${id}-first`,
          f: fields,
          lt: n > 1 ? new Date(ft.getTime() + 5 * 60_000) : ft,
          li: n > 1 ? `${id}-last` : `${id}-first`,
        });
      });
    }
  }
  return parts;
}

async function insertParts(mongo: mongoose.Connection, parts: VisitPartDocument[]): Promise<void> {
  const collection = getVisitPartModel(mongo)
    .collection as unknown as mongoose.mongo.Collection<VisitPartDocument>;
  for (let i = 0; i < parts.length; i += INSERT_CHUNK) {
    const { insertedCount } = await collection.insertMany(parts.slice(i, i + INSERT_CHUNK));
    // The test engine stores nothing of a batch with a duplicate key, and says nothing (shared notes).
    if (insertedCount !== Math.min(INSERT_CHUNK, parts.length - i))
      throw new Error(`insertMany stored ${insertedCount} visit parts of ${parts.length - i}`);
  }
  const stored = await collection.countDocuments({ site_id: parts[0]!.site_id });
  if (stored !== parts.length) throw new Error(`${stored} visit parts stored of ${parts.length}`);
}

interface Answer {
  results: { dimensions: string[]; metrics: (number | null)[] }[];
  meta: { documents_read: number };
}

function queryBody(site: TestSite, breakdown: QueryBreakdown, range: [string, string]): string {
  return JSON.stringify({
    site_id: site.siteId,
    metrics: QUERY_BREAKDOWNS[breakdown],
    dimensions: [breakdown],
    date_range: range,
  });
}

/**
 * Two sites with the same visitors, values and buckets, the second with 5× the events; each breakdown
 * timed `settings.query.runs` times per site (after `warmupRuns`), the two sites alternating, from
 * `fetch` to the whole body (one request at a time). CPU of the reporting service and of the test engine
 * (summed over each site's requests) from /proc.
 */
export async function runQuery(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { runs, warmupRuns } = ctx.settings.query;
  const { uri, mongo } = await freshDatabase(ctx, cleanup, 'query');
  await getVisitPartModel(mongo).createIndexes();
  // The 30 whole UTC days before today.
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const firstDay = today - DAYS * DAY_MS;
  const range: [string, string] = [
    new Date(firstDay).toISOString().slice(0, 10),
    new Date(today - DAY_MS).toISOString().slice(0, 10),
  ];
  const volumes = [
    { label: 'base', factor: 1, site: await insertTestSite(mongo) },
    { label: 'fivefold', factor: 5, site: await insertTestSite(mongo) },
  ] as const;
  const insertStarted = performance.now();
  let documents = 0;
  for (const { site, factor } of volumes) {
    const parts = visitParts(site.siteId, firstDay, factor);
    documents = parts.length;
    await insertParts(mongo, parts);
  }
  const insertMs = performance.now() - insertStarted;
  const reporting = await startService(ctx, cleanup, 'reporting_service', uri);

  const breakdowns: NonNullable<RunResult['query']>['breakdowns'] = {};
  result.query = { documentsPerSite: documents, insertMs, range, breakdowns };
  for (const breakdown of Object.keys(QUERY_BREAKDOWNS) as QueryBreakdown[]) {
    const samples = volumes.map(() => ({ ms: [] as number[], cpu: 0, engineCpu: 0 }));
    const answers: (Answer | undefined)[] = [];
    for (let round = 0; round < warmupRuns + runs; round++) {
      // Alternate which site goes first, so a drift of the machine hits both alike.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) {
        const timed = await timedQuery(ctx, reporting, volumes[index]!.site, breakdown, range);
        answers[index] = timed.answer;
        if (round < warmupRuns) continue;
        samples[index]!.ms.push(timed.ms);
        samples[index]!.cpu += timed.cpu;
        samples[index]!.engineCpu += timed.engineCpu;
      }
    }
    const [base, fivefold] = volumes.map((_, index): QueryVolume => {
      const answer = answers[index]!;
      const metrics = QUERY_BREAKDOWNS[breakdown] as readonly string[];
      const pageviews = metrics.indexOf('pageviews');
      return {
        docsRead: answer.meta.documents_read,
        rows: answer.results.length,
        pageviews: answer.results.reduce((sum, row) => sum + (row.metrics[pageviews] ?? 0), 0),
        latency: summarise(samples[index]!.ms),
        cpuMsPerQuery: (samples[index]!.cpu * 1000) / runs,
        engineCpuMsPerQuery: (samples[index]!.engineCpu * 1000) / runs,
      };
    });
    breakdowns[breakdown] = { base: base!, fivefold: fivefold! };
  }
}

/** One POST /api/v2/query through fetch: wall time to the whole body, and the CPU it cost. */
async function timedQuery(
  ctx: BenchContext,
  reporting: Started,
  site: TestSite,
  breakdown: QueryBreakdown,
  range: [string, string],
) {
  const cpu = () => [
    cpuSeconds(reporting.child.pid),
    ctx.mongoPid === undefined ? 0 : cpuSeconds(ctx.mongoPid),
  ];
  const [cpuBefore, engineBefore] = cpu();
  const started = performance.now();
  const { status, body } = await send(reporting.port, {
    method: 'POST',
    path: '/api/v2/query',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${site.readKey}` },
    body: queryBody(site, breakdown, range),
  });
  const ms = performance.now() - started;
  const [cpuAfter, engineAfter] = cpu();
  if (status !== 200)
    throw new Error(`POST /api/v2/query (${breakdown}) answered ${status}: ${body.slice(0, 300)}`);
  return {
    answer: JSON.parse(body) as Answer,
    ms,
    cpu: cpuAfter! - cpuBefore!,
    engineCpu: engineAfter! - engineBefore!,
  };
}
