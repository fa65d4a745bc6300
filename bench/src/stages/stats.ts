import { getRollupModel, HOUR_MS, startOfHour } from '@analytics/common';
import type mongoose from 'mongoose';
import {
  ADMIN_API_KEY,
  benchMongo,
  Cleanup,
  freshDatabase,
  ingestionEnv,
  measureClosedLoop,
  newSite,
  serviceEnv,
  startProcessorHost,
  startService,
  type BenchContext,
  type Started,
} from '../context';
import { batchRequest, pageView, statsRequest, type BenchSite, type EventShape } from '../fixtures';
import { Connection, sendAll } from '../load/http-load';
import type { RunResult, StatsVolume } from '../results';
import { loadBuilt } from '../support/built';
import { WorkerHostClient } from '../support/worker-host';

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
  const { buildSiteStatsPipeline } = loadBuilt<QueryModule>(
    'reporting_service/dist/queries/get-site-stats.query.js',
  );
  const { resolveStatsWindow } = loadBuilt<WindowModule>('reporting_service/dist/services/stats-window.js');
  const window = resolveStatsWindow({ site_id: siteId }, new Date());
  const [first] = buildSiteStatsPipeline(siteId, window.period, window.buckets);
  const match = (first as { $match?: Record<string, unknown> } | undefined)?.$match;
  if (!match) throw new Error('the /stats pipeline no longer starts with $match');
  return getRollupModel(mongo).countDocuments(match);
}

async function totalViews(reporting: Started, site: BenchSite): Promise<number> {
  const connection = new Connection(reporting.target, true);
  try {
    const response = await connection.request(statsRequest(reporting.target, site));
    if (response.status !== 200 || !response.body) throw new Error(`GET /stats answered ${response.status}`);
    return (JSON.parse(response.body.toString('utf8')) as { total_views: number }).total_views;
  } finally {
    connection.close();
  }
}

/**
 * /stats at two data volumes over the same paths, users and hours: the documents read must not change
 * (the pipeline reads rollups, not raw events) and the latency should barely move.
 */
export async function runStats(ctx: BenchContext, result: RunResult): Promise<void> {
  const { settings } = ctx;
  result.stats = {};
  const cleanup = new Cleanup();
  try {
    const mongoUri = freshDatabase(ctx, 'stats');
    const mongo = await benchMongo(cleanup, mongoUri);
    const site = await newSite(mongo);
    const [ingestion, processor, reporting] = await Promise.all([
      startService(ctx, cleanup, 'ingestion_service', ingestionEnv(ctx, mongoUri)),
      startProcessorHost(ctx, cleanup, mongoUri),
      startService(ctx, cleanup, 'reporting_service', { ...serviceEnv(ctx, mongoUri), ADMIN_API_KEY }),
    ]);
    const host = new WorkerHostClient(processor.child);
    const shape = statsShape(Date.now());
    let sent = 0;

    const addEvents = async (count: number): Promise<void> => {
      const requests: Buffer[] = [];
      for (let first = sent; first < sent + count; first += settings.batchSize) {
        const size = Math.min(settings.batchSize, sent + count - first);
        const events = Array.from({ length: size }, (_, i) => pageView(site.siteId, first + i, shape));
        requests.push(batchRequest(ingestion.target, site, events));
      }
      const responses = await sendAll(ingestion.target, requests, 4);
      const bad = responses.find((r) => r.status !== 202);
      if (bad) throw new Error(`POST /events answered ${bad.status}`);
      sent += count;
      await host.waitForEvents(sent, 300_000);
    };

    const measure = async (): Promise<StatsVolume> => {
      const http = await measureClosedLoop(ctx, reporting, [statsRequest(reporting.target, site)], {
        connections: settings.stats.connections,
        warmupMs: 500,
        durationMs: settings.stats.durationMs,
      });
      return {
        events: sent,
        docsRead: await documentsRead(mongo, site.siteId),
        totalViews: await totalViews(reporting, site),
        http,
      };
    };

    await addEvents(settings.stats.baseEvents);
    result.stats.base = await measure();
    await addEvents(settings.stats.baseEvents * (settings.stats.factor - 1));
    result.stats.fivefold = await measure();
  } finally {
    await cleanup.run();
    await ctx.redis.flushall();
  }
}
