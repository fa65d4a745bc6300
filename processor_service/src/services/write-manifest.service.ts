import {
  eventKeyOf,
  isBackfillWriter,
  PAGE_VIEW,
  rollupId,
  VISIT_FIELD_NAMES,
  visitBucketOf,
  visitorOfStoredEvent,
  visitPartId,
  writeTokenId,
  type ManifestUser,
  type ManifestViewDelta,
  type ManifestVisitPart,
  type RawEventDocument,
  type VisitFields,
  type WriteManifestDocument,
  type WriteToken,
} from '@analytics/common';

/**
 * The increments a write owes: page views per hourly and daily path rollup, users per hour and day, and
 * its events per visit part. A backfill write owes visit parts only (its events' views and users were
 * counted when they were stored).
 */
export function buildManifest(token: WriteToken, stored: RawEventDocument[]): WriteManifestDocument {
  const visitsOnly = isBackfillWriter(token.writer);
  return {
    _id: writeTokenId(token),
    writer: token.writer,
    seq: token.seq,
    keys: stored.map(eventKeyOf),
    views: visitsOnly ? [] : viewDeltasOf(stored),
    users: visitsOnly ? [] : usersOf(stored),
    visits: visitPartsOf(stored),
    applied: false,
    created_at: new Date(),
  };
}

function viewDeltasOf(stored: RawEventDocument[]): ManifestViewDelta[] {
  const views = new Map<string, ManifestViewDelta>();
  for (const doc of stored) {
    if (doc.event_type !== PAGE_VIEW || doc.path === undefined) continue;
    for (const [period, bucket] of [
      ['H', doc.hour],
      ['D', doc.day],
    ] as const) {
      const id = rollupId.views(period, doc.site_id, bucket, doc.path);
      const delta = views.get(id);
      if (delta) delta.views += 1;
      else views.set(id, { rollup_id: id, site_id: doc.site_id, period, bucket, path: doc.path, views: 1 });
    }
  }
  return [...views.values()];
}

function usersOf(stored: RawEventDocument[]): ManifestUser[] {
  const users = new Map<string, ManifestUser>();
  for (const doc of stored) {
    if (doc.user_id === undefined) continue;
    for (const [period, bucket] of [
      ['H', doc.hour],
      ['D', doc.day],
    ] as const) {
      const id = rollupId.users(period, doc.site_id, bucket, doc.user_id);
      users.set(id, { site_id: doc.site_id, period, bucket, user_id: doc.user_id });
    }
  }
  return [...users.values()];
}

/** `(time, event_id)` order: the contract breaks ties of time by the smaller event_id. */
function isBefore(at: Date, id: string, than: Date, thanId: string): boolean {
  return at.getTime() < than.getTime() || (at.getTime() === than.getTime() && id < thanId);
}

function visitFieldsOf(doc: RawEventDocument): VisitFields {
  const fields: VisitFields = {};
  for (const name of VISIT_FIELD_NAMES) {
    const value = doc[name];
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

/** Events without a visitor (stored before ingestion derived one, and with no user_id) join no visit. */
function visitPartsOf(stored: RawEventDocument[]): ManifestVisitPart[] {
  const parts = new Map<string, ManifestVisitPart>();
  for (const doc of stored) {
    const visitor = visitorOfStoredEvent(doc);
    if (visitor === undefined) continue;
    const props =
      doc.props && doc.props.length > 0
        ? [...doc.props].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        : undefined;
    const key = {
      site_id: doc.site_id,
      visitor,
      b: visitBucketOf(doc.timestamp),
      name: doc.event_type,
      ...(doc.path !== undefined && { page: doc.path }),
      ...(props && { props }),
    };
    const _id = visitPartId(key);
    const part = parts.get(_id);
    if (!part) {
      parts.set(_id, {
        _id,
        ...key,
        n: 1,
        ft: doc.timestamp,
        fi: doc.event_id,
        f: visitFieldsOf(doc),
        lt: doc.timestamp,
        li: doc.event_id,
      });
      continue;
    }
    part.n += 1;
    if (isBefore(doc.timestamp, doc.event_id, part.ft, part.fi)) {
      part.ft = doc.timestamp;
      part.fi = doc.event_id;
      part.f = visitFieldsOf(doc);
    }
    if (isBefore(part.lt, part.li, doc.timestamp, doc.event_id)) {
      part.lt = doc.timestamp;
      part.li = doc.event_id;
    }
  }
  return [...parts.values()];
}
