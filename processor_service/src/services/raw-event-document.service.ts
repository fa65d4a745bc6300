import {
  DERIVED_EVENT_FIELDS,
  dayBucket,
  hourBucket,
  type RawEventDocument,
  type TrackedEvent,
} from '@analytics/common';

/** A tracked event with the request it came in and when ingestion received it. */
export interface IncomingEvent {
  event: TrackedEvent;
  requestId: string;
  receivedAt: Date;
}

export function toRawEventDocument({ event, requestId, receivedAt }: IncomingEvent): RawEventDocument {
  const timestamp = new Date(event.timestamp);
  const doc: RawEventDocument = {
    site_id: event.site_id,
    event_id: event.event_id,
    event_type: event.event_type,
    timestamp,
    hour: hourBucket(timestamp),
    day: dayBucket(timestamp),
    received_at: receivedAt,
    request_id: requestId,
    in_visits: true,
  };
  if (event.path !== undefined) doc.path = event.path;
  if (event.user_id !== undefined) doc.user_id = event.user_id;
  if (event.referrer !== undefined) doc.referrer = event.referrer;
  for (const field of DERIVED_EVENT_FIELDS) {
    const value = event[field];
    if (value !== undefined) (doc as Record<typeof field, string>)[field] = value;
  }
  if (event.props !== undefined) {
    doc.props = Object.entries(event.props).map(([key, value]) => ({ key, value }));
  }
  return doc;
}
