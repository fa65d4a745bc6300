import type { TestSite } from '@analytics/testkit';
import type { RequestSpec } from './load';

export type BenchSite = TestSite;

/** The naive peer's queue (BullMQ's default prefix). */
export const NAIVE_QUEUE = 'naive-events';

export interface EventShape {
  /** Distinct paths and users the events cycle through. */
  paths: number;
  users: number;
  /** An explicit timestamp per event; none by default (the arrival time is used). */
  timestampOf?: (index: number) => string;
  /** Explicit event ids `<prefix>-<index>`, so events can be sent again; none by default. */
  idPrefix?: string;
}

export const DEFAULT_SHAPE: EventShape = { paths: 20, users: 50 };

/** A page view as a tracker sends it: a query string on the path, a user, a referrer, two props. */
export function pageView(siteId: string, index: number, shape = DEFAULT_SHAPE): Record<string, unknown> {
  return {
    site_id: siteId,
    event_type: 'page_view',
    path: `/docs/page-${index % shape.paths}?utm_source=bench`,
    user_id: `user-${index % shape.users}`,
    referrer: 'https://www.example.com/search',
    props: { plan: 'pro', step: index % 5 },
    ...(shape.timestampOf && { timestamp: shape.timestampOf(index) }),
    ...(shape.idPrefix !== undefined && { event_id: `${shape.idPrefix}-${index}` }),
  };
}

/** The same headers for every server measured, so request sizes are equal everywhere. */
const headers = (site: BenchSite) => ({ 'content-type': 'application/json', 'x-api-key': site.writeKey });

export function eventRequest(site: BenchSite, event: Record<string, unknown>): RequestSpec {
  return { method: 'POST', path: '/event', headers: headers(site), body: JSON.stringify(event) };
}

export function batchRequest(site: BenchSite, events: Record<string, unknown>[]): RequestSpec {
  return { method: 'POST', path: '/events', headers: headers(site), body: JSON.stringify({ events }) };
}

export function statsRequest(site: BenchSite): RequestSpec {
  const path = `/stats?site_id=${encodeURIComponent(site.siteId)}`;
  return { method: 'GET', path, headers: { authorization: `Bearer ${site.readKey}` } };
}

/** `count` single-event requests for events `first`, `first + 1`, ... */
export function eventRequests(
  site: BenchSite,
  count: number,
  first = 0,
  shape = DEFAULT_SHAPE,
): RequestSpec[] {
  return Array.from({ length: count }, (_, i) => eventRequest(site, pageView(site.siteId, first + i, shape)));
}

/** `batches` requests of `size` events each, numbered on from `first`. */
export function batchRequests(
  site: BenchSite,
  batches: number,
  size: number,
  first = 0,
  shape = DEFAULT_SHAPE,
): RequestSpec[] {
  return Array.from({ length: batches }, (_, b) =>
    batchRequest(
      site,
      Array.from({ length: size }, (_, i) => pageView(site.siteId, first + b * size + i, shape)),
    ),
  );
}
