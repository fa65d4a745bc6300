import type mongoose from 'mongoose';
import {
  boundedMongo,
  getRollupModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type RollupPeriod,
} from '@analytics/common';

/** At most this many paths in `top_paths`. */
export const TOP_PATHS_LIMIT = 10;

export interface SiteStats {
  total_views: number;
  unique_users: number;
  top_paths: { path: string; views: number }[];
}

interface FacetResult {
  totals: { views: number }[];
  top_paths: { _id: string; views: number }[];
  users: { count: number }[];
}

/**
 * One `$facet` over the rollups of the window: its cost follows the number of distinct paths and users
 * in the window, not the number of raw events. Unique users are the distinct user ids over the window's
 * buckets (exact for any range). Only operators the test engine runs exactly as MongoDB does.
 */
export function buildSiteStatsPipeline(
  siteId: string,
  period: RollupPeriod,
  buckets: string[],
): mongoose.PipelineStage[] {
  return [
    { $match: { site_id: siteId, period, bucket: { $in: buckets } } },
    {
      $facet: {
        totals: [{ $match: { kind: 'views' } }, { $group: { _id: null, views: { $sum: '$views' } } }],
        top_paths: [
          { $match: { kind: 'views' } },
          { $group: { _id: '$path', views: { $sum: '$views' } } },
          // Ties by path ascending: MongoDB compares strings by code points without a collation.
          { $sort: { views: -1, _id: 1 } },
          { $limit: TOP_PATHS_LIMIT },
        ],
        users: [{ $match: { kind: 'users' } }, { $group: { _id: '$user_id' } }, { $count: 'count' }],
      },
    },
  ];
}

export async function getSiteStats(
  connection: mongoose.Connection,
  siteId: string,
  period: RollupPeriod,
  buckets: string[],
): Promise<SiteStats> {
  const [result] = await boundedMongo(
    getRollupModel(connection)
      .aggregate<FacetResult>(buildSiteStatsPipeline(siteId, period, buckets))
      .option({ maxTimeMS: MONGO_OPERATION_TIMEOUT_MS })
      .exec(),
  );
  return {
    total_views: result?.totals[0]?.views ?? 0,
    unique_users: result?.users[0]?.count ?? 0,
    top_paths: (result?.top_paths ?? []).map((row) => ({ path: row._id, views: row.views })),
  };
}
