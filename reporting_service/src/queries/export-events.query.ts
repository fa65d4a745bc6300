import type mongoose from 'mongoose';
import { getRawEventModel, type RawEventDocument } from '@analytics/common';

/** A span of time: `start` inclusive, `end` exclusive (days of a site's zone, resolved by the caller). */
export interface UtcRange {
  start: Date;
  end: Date;
}

/** Documents per round trip of the export cursor: the most held in memory at once, besides the streams'. */
export const EXPORT_BATCH_SIZE = 500;

export interface ExportEventsQuery {
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
}

/** One site's raw events in the range, in (timestamp, event_id) order (index site_id, timestamp, event_id). */
export function buildExportEventsQuery(siteId: string, range: UtcRange): ExportEventsQuery {
  return {
    filter: { site_id: siteId, timestamp: { $gte: range.start, $lt: range.end } },
    sort: { timestamp: 1, event_id: 1 },
  };
}

/**
 * The cursor over the export. No `maxTimeMS`: on MongoDB it would bound the whole cursor's life, and an
 * export of millions of rows to a slow client legitimately takes longer; the caller closes it on every
 * end (done, error, client gone).
 */
export function exportEvents(
  connection: mongoose.Connection,
  siteId: string,
  range: UtcRange,
): mongoose.mongo.FindCursor<RawEventDocument> {
  const query = buildExportEventsQuery(siteId, range);
  const events = getRawEventModel(connection)
    .collection as unknown as mongoose.mongo.Collection<RawEventDocument>;
  return events.find(query.filter, { sort: query.sort, batchSize: EXPORT_BATCH_SIZE });
}
