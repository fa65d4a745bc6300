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
import { planQuery } from './query/query-plan.service';
import { siteNotFoundError } from './site.service';
import { buildVisits } from './query/visits.service';

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
  return {
    async query(body) {
      const started = clock();
      const deadline: Deadline = { remainingMs: () => options.timeoutMs - (clock() - started) };
      const site = await sites.findById(body.site_id);
      if (!site) throw siteNotFoundError(body.site_id);
      const timezone = site.timezone ?? DEFAULT_SITE_TIMEZONE;
      const firstDataAt =
        body.date_range === 'all' ? await readFirstDataAt(mongo, site.site_id, deadline) : undefined;
      const parsed = parseQuery(
        body,
        { site_id: site.site_id, timezone, ...(firstDataAt && { firstDataAt }) },
        now(),
      );
      const plan = planQuery(parsed);
      const main = await readVisitParts(mongo, site.site_id, plan.main.startMs, plan.main.endMs, deadline);
      const other = plan.comparison
        ? await readVisitParts(mongo, site.site_id, plan.comparison.startMs, plan.comparison.endMs, deadline)
        : undefined;
      const outcome = executeQuery(parsed, plan, buildVisits(main), other && buildVisits(other));
      if (deadline.remainingMs() <= 0) throw queryTimeout();
      const iso = (at: { toISO: () => string | null }) => at.toISO()!;
      return {
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
          documents_read: main.length + (other?.length ?? 0),
        },
        query: { ...body, date_range: [iso(parsed.range.start), iso(parsed.range.end)] },
      };
    },
  };
}
