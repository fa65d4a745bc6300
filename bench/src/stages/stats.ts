import { getRollupModel, HOUR_MS, startOfHour } from '@analytics/common';
import { insertTestSite } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { waitForEmptyQueue } from '../backlog';
import {
  type Cleanup,
  freshDatabase,
  loadBuilt,
  measureHttp,
  startProcessor,
  startService,
  type BenchContext,
} from '../context';
import { batchRequest, pageView, statsRequest, type EventShape } from '../fixtures';
import { getJson, sendAccepted } from '../load';
import type { RunResult, StatsVolume } from '../results';

type QueryModule = typeof import('../../../reporting_service/src/queries/get-site-stats.query');
type WindowModule = typeof import('../../../reporting_service/src/services/stats-window.service');

/** 10 paths × 3 hours and 20 users × 3 hours: every combination appears within the first 60 events. */
const HOURS = 3;

function statsShape(now: number): EventShape {
  const hourStart = startOfHour(new Date(now)).getTime();
  const intoHour = Math.min(60_000, now - hourStart);
  return {
    paths: 10,
    users: 20,
    timestampOf: (index) => new Date(hourStart - (index % HOURS) * HOUR_MS + intoHour).toISOString(),
  };
}

/** The rollup documents the /stats pipeline's $match selects for the default window, counted. */
async function documentsRead(mongo: mongoose.Connection, siteId: string): Promise<number> {
  const query = loadBuilt<QueryModule>('reporting_service/dist/queries/get-site-stats.query.js');
  const { resolveStatsWindow } = loadBuilt<WindowModule>(
    'reporting_service/dist/services/stats-window.service.js',
  );
  const window = resolveStatsWindow({ site_id: siteId }, new Date());
  const [first] = query.buildSiteStatsPipeline(siteId, window.period, window.buckets);
  const match = (first as { $match?: Record<string, unknown> } | undefined)?.$match;
  if (!match) throw new Error('the /stats pipeline no longer starts with $match');
  return getRollupModel(mongo).countDocuments(match);
}

/**
 * GET /stats at two data volumes over the same paths, users and hours: the documents read must not
 * change (the pipeline reads rollups, not raw events) and the latency should barely move.
 */
export async function runStats(ctx: BenchContext, result: RunResult, cleanup: Cleanup): Promise<void> {
  const { settings } = ctx;
  const stats: NonNullable<RunResult['stats']> = (result.stats = {});
  const { uri, mongo, queue } = await freshDatabase(ctx, cleanup, 'stats');
  const site = await insertTestSite(mongo);
  const [ingestion, , reporting] = await Promise.all([
    startService(ctx, cleanup, 'ingestion_service', uri),
    startProcessor(ctx, cleanup, uri),
    startService(ctx, cleanup, 'reporting_service', uri),
  ]);
  const shape = statsShape(Date.now());
  let sent = 0;

  const addEvents = async (count: number): Promise<void> => {
    const requests = [];
    for (let first = sent; first < sent + count; first += settings.batchSize) {
      const size = Math.min(settings.batchSize, sent + count - first);
      requests.push(
        batchRequest(
          site,
          Array.from({ length: size }, (_, i) => pageView(site.siteId, first + i, shape)),
        ),
      );
    }
    await sendAccepted(ingestion.port, requests, 4, 'POST /events');
    sent += count;
    await waitForEmptyQueue(queue);
  };
  const measure = async (): Promise<StatsVolume> => {
    const request = statsRequest(site);
    const http = await measureHttp(ctx, reporting, {
      requests: [request],
      connections: settings.stats.connections,
      warmupMs: 500,
      durationMs: settings.stats.durationMs,
    });
    const body = await getJson<{ total_views: number }>(reporting.port, request.path, request.headers);
    return {
      events: sent,
      docsRead: await documentsRead(mongo, site.siteId),
      totalViews: body.total_views,
      http,
    };
  };

  await addEvents(settings.stats.baseEvents);
  stats.base = await measure();
  await addEvents(settings.stats.baseEvents * (settings.stats.factor - 1));
  stats.fivefold = await measure();
}
