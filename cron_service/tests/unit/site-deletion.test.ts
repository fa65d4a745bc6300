import { eventKey, type WriteManifestDocument } from '@analytics/common';
import { isManifestOnlyOf } from '../../src/services/site-deletion.service';

function manifest(siteIds: string[], overrides: Partial<WriteManifestDocument> = {}): WriteManifestDocument {
  return {
    _id: 'w:1',
    writer: 'w',
    seq: 1,
    keys: siteIds.map((siteId, i) => eventKey(siteId, `e${i}`)),
    views: siteIds.map((siteId) => ({
      rollup_id: `v|D|${siteId}|2026-12-01|/`,
      site_id: siteId,
      period: 'D',
      bucket: '2026-12-01',
      path: '/',
      views: 1,
    })),
    users: siteIds.map((siteId) => ({ site_id: siteId, period: 'D', bucket: '2026-12-01', user_id: 'u' })),
    applied: true,
    created_at: new Date(),
    ...overrides,
  };
}

describe('isManifestOnlyOf', () => {
  it('when every view, user and key is of the site, then it is the site’s own', () => {
    expect(isManifestOnlyOf(manifest(['gone', 'gone']), 'gone')).toBe(true);
  });

  it('when another site shares the manifest, then it stays', () => {
    expect(isManifestOnlyOf(manifest(['gone', 'other']), 'gone')).toBe(false);
  });

  it('when only its keys name another site (a custom event without rollups), then it stays', () => {
    expect(isManifestOnlyOf(manifest(['gone'], { keys: [eventKey('other', 'x')] }), 'gone')).toBe(false);
  });

  it('when a site id is a prefix of another (gone, gone-2), then the other’s keys do not count as its own', () => {
    expect(isManifestOnlyOf(manifest(['gone'], { keys: [eventKey('gone-2', 'x')] }), 'gone')).toBe(false);
  });

  it('when it is not applied yet, then it stays (its writer or an adopter still needs it)', () => {
    expect(isManifestOnlyOf(manifest(['gone'], { applied: false }), 'gone')).toBe(false);
  });
});
