import { encodeRequest, type Target } from './load/http-load';

export interface BenchSite {
  siteId: string;
  writeKey: string;
  readKey: string;
}

export interface EventShape {
  /** Distinct paths the events cycle through. */
  paths: number;
  /** Distinct users the events cycle through. */
  users: number;
  /** An explicit timestamp per event; none by default (the arrival time is used). */
  timestampOf?: (index: number) => string;
  /** Explicit event ids `<prefix>-<index>` (so events can be sent again); none by default (the service assigns). */
  idPrefix?: string;
}

export const DEFAULT_SHAPE: EventShape = { paths: 20, users: 50 };

/** A page view as a tracker sends it: query string on the path, a referrer, two props. */
export function pageView(
  siteId: string,
  index: number,
  shape: EventShape = DEFAULT_SHAPE,
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    site_id: siteId,
    event_type: 'page_view',
    path: `/docs/page-${index % shape.paths}?utm_source=bench`,
    user_id: `user-${index % shape.users}`,
    referrer: 'https://www.example.com/search',
    props: { plan: 'pro', step: index % 5 },
  };
  if (shape.timestampOf) event.timestamp = shape.timestampOf(index);
  if (shape.idPrefix !== undefined) event.event_id = `${shape.idPrefix}-${index}`;
  return event;
}

/** The same headers for every server measured, so request sizes are equal everywhere. */
function eventHeaders(site: BenchSite): Record<string, string> {
  return { 'Content-Type': 'application/json', 'x-api-key': site.writeKey };
}

export function eventRequest(target: Target, site: BenchSite, body: Record<string, unknown>): Buffer {
  return encodeRequest(target, {
    method: 'POST',
    path: '/event',
    headers: eventHeaders(site),
    body: JSON.stringify(body),
  });
}

export function batchRequest(target: Target, site: BenchSite, events: Record<string, unknown>[]): Buffer {
  return encodeRequest(target, {
    method: 'POST',
    path: '/events',
    headers: eventHeaders(site),
    body: JSON.stringify({ events }),
  });
}

export function statsRequest(target: Target, site: BenchSite): Buffer {
  return encodeRequest(target, {
    method: 'GET',
    path: `/stats?site_id=${encodeURIComponent(site.siteId)}`,
    headers: { Authorization: `Bearer ${site.readKey}` },
  });
}

/** `count` single-event requests, events `first`, `first + 1`, ... */
export function eventRequests(
  target: Target,
  site: BenchSite,
  count: number,
  first = 0,
  shape: EventShape = DEFAULT_SHAPE,
): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    eventRequest(target, site, pageView(site.siteId, first + i, shape)),
  );
}

/** `batches` requests of `size` events each, numbered on from `first`. */
export function batchRequests(
  target: Target,
  site: BenchSite,
  batches: number,
  size: number,
  first = 0,
  shape: EventShape = DEFAULT_SHAPE,
): Buffer[] {
  return Array.from({ length: batches }, (_, b) =>
    batchRequest(
      target,
      site,
      Array.from({ length: size }, (_, i) => pageView(site.siteId, first + b * size + i, shape)),
    ),
  );
}
