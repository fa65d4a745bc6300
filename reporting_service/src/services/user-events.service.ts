import type mongoose from 'mongoose';
import { AppError, DEFAULT_SITE_TIMEZONE, EVENT_ID_PATTERN } from '@analytics/common';
import {
  buildListUserEventsQuery,
  listUserEvents,
  type UserEventsPosition,
} from '../queries/list-user-events.query';
import type { SiteRepository } from '../repositories/site.repository';
import type { UserEventsInput } from '../validations/user.validation';
import { toEventRow, type EventRow } from './event-row.service';
import { siteNotFoundError } from './site.service';
import { nextDay, startOfZoneDay, type UtcRange } from './zone-calendar.service';

export interface UserEventsPage {
  events: EventRow[];
  next_cursor: string | null;
}

/** The cursor is opaque to clients: base64url of `<timestamp ms>.<event_id>` of a page's last event. */
export function encodeUserEventsCursor(position: UserEventsPosition): string {
  return Buffer.from(`${position.timestamp.getTime()}.${position.eventId}`, 'utf8').toString('base64url');
}

export function decodeUserEventsCursor(cursor: string): UserEventsPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const ms = Number(text.slice(0, dot));
  const eventId = text.slice(dot + 1);
  if (dot < 1 || !Number.isSafeInteger(ms) || !EVENT_ID_PATTERN.test(eventId)) {
    throw new AppError('validation-failed', 'Invalid cursor', {
      status: 400,
      details: [{ field: 'cursor', message: 'must be a next_cursor returned by this endpoint' }],
    });
  }
  return { timestamp: new Date(ms), eventId };
}

/**
 * A page of one user's events of a site, newest first. Keyset paging on (timestamp, event_id): every
 * event stored when the first page was read is returned exactly once over the pages; an event stored
 * later appears only if it sorts after the position already reached (an older timestamp).
 */
export async function getUserEventsPage(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  userId: string,
  input: UserEventsInput,
): Promise<UserEventsPage> {
  const after = input.cursor === undefined ? undefined : decodeUserEventsCursor(input.cursor);
  const site = await sites.findById(input.site_id);
  if (!site) throw siteNotFoundError(input.site_id);
  const zone = site.timezone ?? DEFAULT_SITE_TIMEZONE;
  const range: Partial<UtcRange> = {};
  if (input.from !== undefined) range.start = startOfZoneDay(input.from, zone);
  if (input.to !== undefined) range.end = startOfZoneDay(nextDay(input.to), zone);
  const query = buildListUserEventsQuery(input.site_id, userId, range, after, input.limit);
  const docs = await listUserEvents(mongo, query);
  const page = docs.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    events: page.map(toEventRow),
    next_cursor:
      docs.length > input.limit && last
        ? encodeUserEventsCursor({ timestamp: last.timestamp, eventId: last.event_id })
        : null,
  };
}
