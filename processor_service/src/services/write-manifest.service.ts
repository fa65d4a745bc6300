import {
  eventKeyOf,
  PAGE_VIEW,
  rollupId,
  writeTokenId,
  type ManifestUser,
  type ManifestViewDelta,
  type RawEventDocument,
  type WriteManifestDocument,
  type WriteToken,
} from '@analytics/common';

/** The increments a write owes: page views per hourly and daily path rollup, users per hour and day. */
export function buildManifest(token: WriteToken, stored: RawEventDocument[]): WriteManifestDocument {
  const views = new Map<string, ManifestViewDelta>();
  const users = new Map<string, ManifestUser>();
  for (const doc of stored) {
    for (const [period, bucket] of [
      ['H', doc.hour],
      ['D', doc.day],
    ] as const) {
      if (doc.event_type === PAGE_VIEW && doc.path !== undefined) {
        const id = rollupId.views(period, doc.site_id, bucket, doc.path);
        const delta = views.get(id);
        if (delta) delta.views += 1;
        else
          views.set(id, {
            rollup_id: id,
            site_id: doc.site_id,
            period,
            bucket,
            path: doc.path,
            views: 1,
          });
      }
      if (doc.user_id !== undefined) {
        const id = rollupId.users(period, doc.site_id, bucket, doc.user_id);
        users.set(id, { site_id: doc.site_id, period, bucket, user_id: doc.user_id });
      }
    }
  }
  return {
    _id: writeTokenId(token),
    writer: token.writer,
    seq: token.seq,
    keys: stored.map(eventKeyOf),
    views: [...views.values()],
    users: [...users.values()],
    applied: false,
    created_at: new Date(),
  };
}
