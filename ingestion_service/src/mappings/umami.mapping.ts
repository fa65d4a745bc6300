import { normaliseDomain, PAGE_VIEW, SITE_ID_PATTERN, type ErrorDetail } from '@analytics/common';
import {
  capProps,
  foreignEventType,
  foreignPath,
  foreignReferrer,
  isPlainObject,
  type ForeignEvent,
} from './foreign-event.mapping';

/**
 * Umami's collection API (`POST /api/send`, docs/clients.md): `{"type", "payload": {...}}`. Pure.
 * Umami's persistent `id` and `vid` are ignored on purpose: they would link a visitor across days.
 */

export type UmamiMapping =
  | {
      kind: 'event';
      /** `payload.website`: the site id. */
      siteId: string;
      /** `payload.hostname`, normalised, when sent: it must be one of the site's domains. */
      hostname?: string;
      event: ForeignEvent;
      propsDropped: number;
    }
  | { kind: 'identify'; siteId: string; hostname?: string }
  | { kind: 'invalid'; details: ErrorDetail[] };

export function mapUmamiPayload(body: unknown): UmamiMapping {
  if (!isPlainObject(body)) {
    return { kind: 'invalid', details: [{ field: 'body', message: 'body must be a JSON object' }] };
  }
  const details: ErrorDetail[] = [];
  const { type, payload } = body;
  if (type !== 'event' && type !== 'identify') {
    details.push({ field: 'type', message: 'type must be "event" or "identify"' });
  }
  if (!isPlainObject(payload)) {
    details.push({ field: 'payload', message: 'payload must be a JSON object' });
    return { kind: 'invalid', details };
  }
  const siteId = payload.website;
  if (typeof siteId !== 'string' || !SITE_ID_PATTERN.test(siteId)) {
    details.push({ field: 'payload.website', message: 'payload.website must be a site id' });
  }
  let hostname: string | undefined;
  if (payload.hostname !== undefined && payload.hostname !== null && payload.hostname !== '') {
    hostname = typeof payload.hostname === 'string' ? normaliseDomain(payload.hostname) : undefined;
    if (hostname === undefined) {
      details.push({ field: 'payload.hostname', message: 'payload.hostname must be a host name' });
    }
  }
  const name = payload.name;
  const named = name !== undefined && name !== null && name !== '';
  const eventType = named ? foreignEventType(name) : PAGE_VIEW;
  if (typeof eventType !== 'string') details.push({ field: 'payload.name', message: eventType.reason });
  const url = payload.url;
  const path = typeof url === 'string' && url !== '' ? foreignPath(url) : undefined;
  const urlSent = url !== undefined && url !== null && url !== '';
  if (urlSent && path === undefined) {
    details.push({
      field: 'payload.url',
      message: 'payload.url must be a path starting with / or an http(s) URL',
    });
  } else if (type === 'event' && !named && path === undefined) {
    details.push({ field: 'payload.url', message: 'payload.url is required for a page view' });
  }
  if (details.length > 0 || typeof eventType !== 'string' || typeof siteId !== 'string') {
    // an identify needs only its site; its other fields are not stored
    if (type === 'identify' && typeof siteId === 'string' && SITE_ID_PATTERN.test(siteId)) {
      const hostDetails = details.filter((d) => d.field === 'payload.hostname' || d.field === 'type');
      if (hostDetails.length === 0) return { kind: 'identify', siteId, hostname };
    }
    return { kind: 'invalid', details };
  }
  if (type === 'identify') return { kind: 'identify', siteId, hostname };

  const { props, dropped } = capProps(payload.data);
  const event: ForeignEvent = { event_type: eventType };
  if (path !== undefined) {
    event.path = path.path;
    event.rawPath = path.rawPath;
  }
  const referrer = foreignReferrer(payload.referrer);
  if (referrer !== undefined && referrer !== '') event.referrer = referrer;
  if (props) event.props = props;
  const mapped: UmamiMapping = { kind: 'event', siteId, event, propsDropped: dropped };
  if (hostname !== undefined) mapped.hostname = hostname;
  return mapped;
}
