import { buildSiteStatsPipeline, TOP_PATHS_LIMIT } from '../../src/queries/get-site-stats.query';
import { resolveStatsWindow } from '../../src/services/stats-window.service';

describe('resolveStatsWindow', () => {
  it('when no day is given, then the current UTC hour and the 23 before it', () => {
    const window = resolveStatsWindow({ site_id: 's' }, new Date('2025-11-13T14:37:12.000Z'));
    expect(window.period).toBe('H');
    expect(window.buckets).toHaveLength(24);
    expect(window.buckets[0]).toBe('2025-11-12T15');
    expect(window.buckets[23]).toBe('2025-11-13T14');
    expect(window.label).toEqual({ from: '2025-11-12T15:00:00.000Z', to: '2025-11-13T15:00:00.000Z' });
  });

  it('when a range is given, then every day of it, both ends included, across a month end', () => {
    const window = resolveStatsWindow({ site_id: 's', from: '2024-02-27', to: '2024-03-01' }, new Date());
    expect(window).toEqual({
      period: 'D',
      buckets: ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01'],
      label: { from: '2024-02-27', to: '2024-03-01' },
    });
  });
});

describe('buildSiteStatsPipeline', () => {
  it('matches only the site and window, then facets totals, top paths and distinct users on plain field paths', () => {
    const pipeline = buildSiteStatsPipeline('site-1', 'D', ['2025-11-12']);
    expect(pipeline[0]).toEqual({
      $match: { site_id: 'site-1', period: 'D', bucket: { $in: ['2025-11-12'] } },
    });
    const facet = (pipeline[1] as unknown as { $facet: Record<string, Record<string, unknown>[]> }).$facet;
    expect(Object.keys(facet).sort()).toEqual(['top_paths', 'totals', 'users']);
    expect(facet.top_paths).toContainEqual({ $sort: { views: -1, _id: 1 } });
    expect(facet.top_paths).toContainEqual({ $limit: TOP_PATHS_LIMIT });
    expect(facet.users).toEqual([
      { $match: { kind: 'users' } },
      { $group: { _id: '$user_id' } },
      { $count: 'count' },
    ]);
    // No expression operators: the test engine would silently mis-evaluate them.
    expect(JSON.stringify(pipeline)).not.toMatch(/\$(cond|dateToString|dateTrunc|concat|add|size)\b/);
  });
});
