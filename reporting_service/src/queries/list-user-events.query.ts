import type mongoose from 'mongoose';
import {
  boundedMongo,
  getRawEventModel,
  MONGO_OPERATION_TIMEOUT_MS,
  type RawEventDocument,
} from '@analytics/common';
import type { UtcRange } from './export-events.query';

/** Where the previous page ended: its last event. */
export interface UserEventsPosition {
  timestamp: Date;
  eventId: string;
}

export interface ListUserEventsQuery {
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
  limit: number;
}

/**
 * One user's events of a site, newest first, ties by event_id ascending, after `after` (keyset paging:
 * (timestamp, event_id) is unique within a site, so each event is on exactly one page). Reads one more
 * than `limit` to know whether a next page exists. Index: site_id, user_id, timestamp -1, event_id 1.
 */
export function buildListUserEventsQuery(
  siteId: string,
  userId: string,
  range: Partial<UtcRange>,
  after: UserEventsPosition | undefined,
  limit: number,
): ListUserEventsQuery {
  const timestamp: Record<string, Date> = {};
  if (range.start) timestamp.$gte = range.start;
  if (range.end) timestamp.$lt = range.end;
  const filter: Record<string, unknown> = { site_id: siteId, user_id: userId };
  if (Object.keys(timestamp).length > 0) filter.timestamp = timestamp;
  if (after) {
    filter.$or = [
      { timestamp: { $lt: after.timestamp } },
      { timestamp: after.timestamp, event_id: { $gt: after.eventId } },
    ];
  }
  return { filter, sort: { timestamp: -1, event_id: 1 }, limit: limit + 1 };
}

export async function listUserEvents(
  connection: mongoose.Connection,
  query: ListUserEventsQuery,
): Promise<RawEventDocument[]> {
  const events = getRawEventModel(connection)
    .collection as unknown as mongoose.mongo.Collection<RawEventDocument>;
  return boundedMongo(
    events
      .find(query.filter, { maxTimeMS: MONGO_OPERATION_TIMEOUT_MS })
      .sort(query.sort)
      .limit(query.limit)
      .toArray(),
  );
}
