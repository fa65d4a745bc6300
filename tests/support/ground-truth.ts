/** An event as a test sent it (after the service's own rules: alias, path cut, UTC day/hour). */
export interface SentEvent {
  site_id: string;
  event_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  timestamp: string;
}

export interface ExpectedStats {
  total_views: number;
  unique_users: number;
  top_paths: { path: string; views: number }[];
}

/** Code-point order, as the contract asks for ties (not localeCompare). */
function byCodePoint(a: string, b: string): number {
  const ac = [...a].map((c) => c.codePointAt(0)!);
  const bc = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(ac.length, bc.length); i += 1) if (ac[i] !== bc[i]) return ac[i]! - bc[i]!;
  return ac.length - bc.length;
}

/**
 * The figures /stats must answer, computed straight from what the test sent: events deduplicated by
 * (site_id, event_id), those of `siteId` inside [fromMs, toMs), page views counted by path without
 * query and fragment, distinct non-empty user ids over every event type.
 */
export function expectedStats(
  sent: SentEvent[],
  siteId: string,
  fromMs: number,
  toMs: number,
): ExpectedStats {
  const unique = new Map<string, SentEvent>();
  for (const event of sent) {
    const key = `${event.site_id}\u0000${event.event_id}`;
    if (!unique.has(key)) unique.set(key, event);
  }
  const inWindow = [...unique.values()].filter((e) => {
    const at = Date.parse(e.timestamp);
    return e.site_id === siteId && at >= fromMs && at < toMs;
  });
  const views = new Map<string, number>();
  const users = new Set<string>();
  for (const e of inWindow) {
    const type = e.event_type === 'pageview' ? 'page_view' : e.event_type;
    if (type === 'page_view' && e.path !== undefined) {
      const path = e.path.split(/[?#]/)[0]!;
      views.set(path, (views.get(path) ?? 0) + 1);
    }
    if (e.user_id) users.add(e.user_id);
  }
  const top = [...views.entries()]
    .map(([path, n]) => ({ path, views: n }))
    .sort((a, b) => b.views - a.views || byCodePoint(a.path, b.path))
    .slice(0, 10);
  return {
    total_views: [...views.values()].reduce((a, b) => a + b, 0),
    unique_users: users.size,
    top_paths: top,
  };
}

export function dayRangeMs(from: string, to: string): [number, number] {
  return [Date.parse(`${from}T00:00:00.000Z`), Date.parse(`${to}T00:00:00.000Z`) + 86_400_000];
}
