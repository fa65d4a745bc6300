import type mongoose from 'mongoose';
import { PAGE_VIEW } from '@analytics/common';
import { readActiveVisitors, readRecentMetricPoints } from '../queries/read-dashboard-activity.query';
import type { QueryBody } from '../validations/query.validation';
import type { QueryAnswer, QueryService } from './query.service';

/** Active visitors: an event in the last 5 minutes (contract). */
const ACTIVE_WINDOW_MS = 5 * 60_000;
const TOP_EVENTS = 10;
const RECENT_METRICS = 10;

export interface DashboardSummary {
  site_id: string;
  today: { visitors: number; pageviews: number; events: number };
  active_visitors: number;
  top_events: { name: string; events: number }[];
  recent_metrics: { name: string; value: number; timestamp: string }[];
}

export interface DashboardSummaryService {
  summarise(siteId: string): Promise<DashboardSummary>;
}

/** A query body with the defaults the validation would give. */
function body(siteId: string, fields: Partial<QueryBody> & Pick<QueryBody, 'metrics'>): QueryBody {
  return {
    site_id: siteId,
    date_range: 'day',
    dimensions: [],
    filters: [],
    include: { time_labels: false, total_rows: false },
    pagination: { limit: 10_000, offset: 0 },
    ...fields,
  };
}

/**
 * GET /dashboard: today's totals and top custom events (today in the site's zone) through the query API's
 * own path, so they are the same numbers; active visitors and the latest metric points from their
 * pre-aggregates and indexes. Four reads, side by side.
 */
export function createDashboardSummaryService(
  queries: QueryService,
  mongo: mongoose.Connection,
  now: () => Date = () => new Date(),
): DashboardSummaryService {
  return {
    async summarise(siteId) {
      const at = now();
      const [answers, active, metrics] = await Promise.all([
        // Two questions of today: one read of its visit parts.
        queries.queryMany([
          body(siteId, { metrics: ['visitors', 'pageviews', 'events'] }),
          body(siteId, {
            metrics: ['events'],
            dimensions: ['event:name'],
            filters: [['is_not', 'event:name', [PAGE_VIEW]]],
            pagination: { limit: TOP_EVENTS, offset: 0 },
          }),
        ]),
        readActiveVisitors(mongo, siteId, new Date(at.getTime() - ACTIVE_WINDOW_MS), at),
        readRecentMetricPoints(mongo, siteId, RECENT_METRICS),
      ]);
      const [today, topEvents] = answers as [QueryAnswer, QueryAnswer];
      const [visitors, pageviews, events] = today.results[0]!.metrics as number[];
      return {
        site_id: siteId,
        today: { visitors: visitors!, pageviews: pageviews!, events: events! },
        active_visitors: active,
        top_events: topEvents.results.map((row) => ({
          name: row.dimensions[0]!,
          events: row.metrics[0] as number,
        })),
        recent_metrics: metrics.map((m) => ({ ...m, timestamp: m.timestamp.toISOString() })),
      };
    },
  };
}
