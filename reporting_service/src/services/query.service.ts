import type mongoose from 'mongoose';
import { DEFAULT_SITE_TIMEZONE } from '@analytics/common';
import {
  queryTimeout,
  readFirstDataAt,
  readVisitParts,
  type Deadline,
} from '../queries/read-visit-parts.query';
import type { SiteRepository } from '../repositories/site.repository';
import type { QueryBody } from '../validations/query.validation';
import { executeQuery, type ResultRow } from './query/query-execute.service';
import { parseQuery } from './query/query-parse.service';
import { planQuery, type QueryWindow } from './query/query-plan.service';
import { siteNotFoundError } from './site.service';
import { buildVisits, type Visit } from './query/visits.service';

export interface QueryAnswer {
  results: ResultRow[];
  meta: {
    time_labels?: string[];
    total_rows?: number;
    comparison_date_range?: [string, string];
    /** Pre-aggregated documents read (visit parts): grows with visitors and values, never with raw events. */
    documents_read: number;
  };
  query: Omit<QueryBody, 'date_range'> & { date_range: [string, string] };
}

export interface QueryService {
  query(body: QueryBody): Promise<QueryAnswer>;
  /**
   * Several queries of one site under one deadline, each window's visit parts read once however many of
   * them ask about it (GET /dashboard asks two questions of today).
   */
  queryMany(bodies: QueryBody[]): Promise<QueryAnswer[]>;
}

/** POST /api/v2/query: parse → plan → read → execute, every step separately tested. */
export function createQueryService(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  options: { timeoutMs: number; now?: () => Date; elapsedClock?: () => number },
): QueryService {
  const now = options.now ?? (() => new Date());
  // Milliseconds for the deadline (tests pass a clock that runs fast).
  const clock = options.elapsedClock ?? (() => Date.now());

  async function queryMany(bodies: QueryBody[]): Promise<QueryAnswer[]> {
    const started = clock();
    const deadline: Deadline = { remainingMs: () => options.timeoutMs - (clock() - started) };
    const siteId = bodies[0]!.site_id;
    if (bodies.some((body) => body.site_id !== siteId)) throw new Error('queryMany takes one site');
    const site = await sites.findById(siteId);
    if (!site) throw siteNotFoundError(siteId);
    const timezone = site.timezone ?? DEFAULT_SITE_TIMEZONE;
    const firstDataAt = bodies.some((body) => body.date_range === 'all')
      ? await readFirstDataAt(mongo, site.site_id, deadline)
      : undefined;
    const at = now();
    const planned = bodies.map((body) => {
      const parsed = parseQuery(
        body,
        { site_id: site.site_id, timezone, ...(firstDataAt && { firstDataAt }) },
        at,
      );
      return { body, parsed, plan: planQuery(parsed) };
    });
    // One read and one cut into visits per distinct window.
    const windows = new Map<string, Promise<{ visits: Visit[]; read: number }>>();
    const visitsOf = (window: QueryWindow) => {
      const key = `${window.startMs}|${window.endMs}`;
      let pending = windows.get(key);
      if (!pending) {
        pending = readVisitParts(mongo, site.site_id, window.startMs, window.endMs, deadline).then(
          (parts) => ({
            visits: buildVisits(parts),
            read: parts.length,
          }),
        );
        windows.set(key, pending);
      }
      return pending;
    };
    const answers: QueryAnswer[] = [];
    for (const { body, parsed, plan } of planned) {
      const main = await visitsOf(plan.main);
      const other = plan.comparison ? await visitsOf(plan.comparison) : undefined;
      const outcome = executeQuery(parsed, plan, main.visits, other?.visits);
      const iso = (instant: { toISO: () => string | null }) => instant.toISO()!;
      answers.push({
        results: outcome.results,
        meta: {
          ...(parsed.includeTimeLabels && { time_labels: plan.main.labels }),
          ...(parsed.includeTotalRows && { total_rows: outcome.totalRows }),
          ...(plan.comparison && {
            comparison_date_range: [iso(plan.comparison.range.start), iso(plan.comparison.range.end)] as [
              string,
              string,
            ],
          }),
          documents_read: main.read + (other?.read ?? 0),
        },
        query: { ...body, date_range: [iso(parsed.range.start), iso(parsed.range.end)] },
      });
    }
    if (deadline.remainingMs() <= 0) throw queryTimeout();
    return answers;
  }

  return {
    async query(body) {
      return (await queryMany([body]))[0]!;
    },
    queryMany,
  };
}
