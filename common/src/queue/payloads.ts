import Joi from 'joi';
import {
  EVENT_ID_PATTERN,
  MAX_EVENTS_PER_REQUEST,
  SITE_ID_PATTERN,
  type PropValue,
} from '../events/event-identity';
import { JOBS } from './names';
import type { IngestMetricsJob } from './metric-payloads';

/** A device class, as ingestion derives it from the user agent. */
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'unknown'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/**
 * What ingestion derives for an event from its request (client IP, user agent) and its own fields
 * (referrer, path's query). Absent on events of jobs written before enrichment; the IP itself is never here.
 */
export interface DerivedEventFields {
  /** `u:<user_id>` for an identified visitor, `a:<keyed hash>` for an anonymous one (one site day). */
  visitor?: string;
  device?: DeviceType;
  browser?: string;
  os?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  /** A named source, the referrer's host without `www.`, `utm_source`, or `Direct / None`. */
  source?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
}

/** The derived fields, in the order documents and exports list them. */
export const DERIVED_EVENT_FIELDS = [
  'visitor',
  'device',
  'browser',
  'os',
  'country',
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
] as const satisfies readonly (keyof DerivedEventFields)[];

/** One event as ingestion accepted and normalised it: alias resolved, id assigned, time in UTC. */
export interface TrackedEvent extends DerivedEventFields {
  site_id: string;
  event_id: string;
  event_type: string;
  /** Without query string and fragment. */
  path?: string;
  user_id?: string;
  /** ISO-8601 UTC with milliseconds. */
  timestamp: string;
  /** Host and path without query (events of older jobs: as the client sent it). */
  referrer?: string;
  props?: Record<string, PropValue>;
}

/** One accepted request (`/event` or `/events`): its events are always enqueued together, in one job. */
export interface AcceptedRequest {
  request_id: string;
  received_at: string;
  events: TrackedEvent[];
}

/** Written by ingestion before group commits: one job per request. Still consumed. */
export interface IngestEventsJobV1 extends AcceptedRequest {
  v: 1;
}

/** One job per group commit: the requests ingestion accepted together, each whole. */
export interface IngestEventsJobV2 {
  v: 2;
  requests: AcceptedRequest[];
}

/**
 * Payload versions across releases (docs/architecture.md, "Job payloads across releases"):
 * - a release reads every version the release before it wrote, and writes only what that release reads,
 *   so a rollback never strands accepted events in jobs the old code calls malformed;
 * - a later format that only adds fields carries `compat`: the oldest reader version that processes it
 *   correctly by ignoring the fields it does not know. This release reads such a job as the v2 it
 *   contains, so it also reads what the release after it writes.
 * A change that older readers cannot process by ignoring fields needs two releases: the first learns to
 * read the new version (still writing the old one), the second writes it.
 */
export const PAYLOAD_VERSION_WRITTEN = 2;
/** The newest version this release reads in full; later ones with `compat` up to this are read too. */
export const PAYLOAD_VERSION_READ = 2;

/** A job of a later release, readable here because its `compat` is at most PAYLOAD_VERSION_READ. */
export interface IngestEventsJobLater {
  v: number;
  compat: number;
  requests: AcceptedRequest[];
}

export type IngestEventsJob = IngestEventsJobV1 | IngestEventsJobV2 | IngestEventsJobLater;

/** The requests of a job, whatever its version. */
export function requestsOf(job: IngestEventsJob): AcceptedRequest[] {
  return job.v === 1 ? [job as IngestEventsJobV1] : (job as IngestEventsJobV2).requests;
}

/** Most events one job holds; a request is never split, and one request holds at most a batch. */
export const JOB_MAX_EVENTS = MAX_EVENTS_PER_REQUEST;

/** Every job name with its payload type: producer and consumer agree through this map. */
export interface JobPayloads {
  [JOBS.ingestEvents]: IngestEventsJob;
  /** On the metrics queue (metric-payloads.ts). */
  [JOBS.ingestMetrics]: IngestMetricsJob;
}

/**
 * The consumer's check of what its own producer wrote: types, the characters of the ids that end up in
 * keys, and a parsable time. Lengths and the other field rules were enforced by ingestion; repeating
 * them event by event cost the worker a quarter of its CPU.
 */
const trackedEventSchema = Joi.object<TrackedEvent>({
  site_id: Joi.string().pattern(SITE_ID_PATTERN).required(),
  event_id: Joi.string().pattern(EVENT_ID_PATTERN).required(),
  event_type: Joi.string().required(),
  path: Joi.string(),
  user_id: Joi.string(),
  timestamp: Joi.string().isoDate().required(),
  referrer: Joi.string().allow(''),
  props: Joi.object(),
  // Derived by ingestion; optional, so jobs of the release before enrichment still pass.
  visitor: Joi.string().pattern(/^[ua]:/),
  device: Joi.valid(...DEVICE_TYPES),
  browser: Joi.string(),
  os: Joi.string(),
  country: Joi.string().pattern(/^[A-Z]{2}$/),
  source: Joi.string(),
  utm_source: Joi.string(),
  utm_medium: Joi.string(),
  utm_campaign: Joi.string(),
  utm_term: Joi.string(),
  utm_content: Joi.string(),
});

const acceptedRequestFields = {
  request_id: Joi.string().max(200).required(),
  received_at: Joi.string().isoDate().required(),
  events: Joi.array().items(trackedEventSchema).min(1).max(JOB_MAX_EVENTS).required(),
};

/** The fields of a later release's job that this release reads; the rest is ignored, at every level. */
const laterRequestSchema = Joi.object<AcceptedRequest>({
  ...acceptedRequestFields,
  events: Joi.array().items(trackedEventSchema.unknown(true)).min(1).max(JOB_MAX_EVENTS).required(),
}).unknown(true);

/** The consumer checks every payload with this; anything else is a poison message. */
export const ingestEventsJobSchema = Joi.alternatives()
  .conditional('.v', {
    switch: [
      {
        is: 1,
        then: Joi.object<IngestEventsJobV1>({ v: Joi.valid(1).required(), ...acceptedRequestFields }),
      },
      {
        is: 2,
        then: Joi.object<IngestEventsJobV2>({
          v: Joi.valid(2).required(),
          requests: Joi.array()
            .items(Joi.object<AcceptedRequest>(acceptedRequestFields))
            .min(1)
            .max(JOB_MAX_EVENTS)
            .required(),
        }),
      },
      {
        is: Joi.number().integer().greater(PAYLOAD_VERSION_READ),
        then: Joi.object<IngestEventsJobLater>({
          v: Joi.number().integer().required(),
          compat: Joi.number().integer().min(1).max(PAYLOAD_VERSION_READ).required(),
          requests: Joi.array().items(laterRequestSchema).min(1).max(JOB_MAX_EVENTS).required(),
        }).unknown(true),
      },
    ],
    otherwise: Joi.object({ v: Joi.valid(1, 2).required() }).unknown(),
  })
  .required()
  // Set on the schema, not per call: Joi caches a schema's preferences only when a call passes none.
  .prefs({ abortEarly: true, convert: false });

/**
 * A job of a later release that this one cannot read (no `compat`, or one above PAYLOAD_VERSION_READ):
 * not malformed, only too new. The processor keeps it delayed, for a newer processor, instead of failing it.
 */
export function isTooNewForThisRelease(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const { v, compat } = data as { v?: unknown; compat?: unknown };
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= PAYLOAD_VERSION_READ) return false;
  return !(typeof compat === 'number' && compat >= 1 && compat <= PAYLOAD_VERSION_READ);
}

const EVENT_STRING_FIELDS = [
  'event_type',
  'path',
  'user_id',
  'browser',
  'os',
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
] as const;
const EVENT_FIELDS = new Set<string>([
  'site_id',
  'event_id',
  'timestamp',
  'referrer',
  'props',
  'visitor',
  'device',
  'country',
  ...EVENT_STRING_FIELDS,
]);
const REQUEST_FIELDS = new Set(['request_id', 'received_at', 'events']);
/** What ingestion writes: `Date#toISOString()`, always with milliseconds and `Z`. */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const VISITOR_PATTERN = /^[ua]:/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isCanonicalTime = (value: unknown): boolean =>
  typeof value === 'string' && CANONICAL_ISO.test(value) && new Date(value).toISOString() === value;
const hasOnlyKeys = (value: object, allowed: ReadonlySet<string>): boolean => {
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  // JSON.parse makes `"__proto__"` an own key: Joi would drop it, so such a payload goes to Joi.
  return !Object.prototype.hasOwnProperty.call(value, '__proto__');
};
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isPlainTrackedEvent(event: unknown): boolean {
  if (!isRecord(event) || !hasOnlyKeys(event, EVENT_FIELDS)) return false;
  const { site_id, event_id, timestamp, referrer, props, visitor, device, country } = event;
  if (typeof site_id !== 'string' || !SITE_ID_PATTERN.test(site_id)) return false;
  if (typeof event_id !== 'string' || !EVENT_ID_PATTERN.test(event_id)) return false;
  if (!isCanonicalTime(timestamp) || !isText(event.event_type)) return false;
  for (const field of EVENT_STRING_FIELDS) {
    const value = event[field];
    if (value !== undefined && !isText(value)) return false;
  }
  if (referrer !== undefined && typeof referrer !== 'string') return false;
  if (props !== undefined && (!isRecord(props) || Object.prototype.hasOwnProperty.call(props, '__proto__')))
    return false;
  if (visitor !== undefined && !(isText(visitor) && VISITOR_PATTERN.test(visitor))) return false;
  if (device !== undefined && !(DEVICE_TYPES as readonly unknown[]).includes(device)) return false;
  if (country !== undefined && !(typeof country === 'string' && COUNTRY_PATTERN.test(country))) return false;
  return true;
}

function isPlainRequest(request: unknown): boolean {
  if (!isRecord(request) || !hasOnlyKeys(request, REQUEST_FIELDS)) return false;
  const { request_id, received_at, events } = request;
  if (!isText(request_id) || request_id.length > 200 || !isCanonicalTime(received_at)) return false;
  if (!Array.isArray(events) || events.length < 1 || events.length > JOB_MAX_EVENTS) return false;
  return events.every(isPlainTrackedEvent);
}

const JOB_FIELDS = new Set(['v', 'requests']);

/**
 * Checks a job's payload with `ingestEventsJobSchema`, after a hand-written check of the one shape this
 * release's ingestion writes (v2, times as `toISOString()` writes them, no field the schema lacks):
 * a payload that passes it is one the schema accepts unchanged (`convert: false`), so it is returned as
 * is; anything else, valid or not, goes through Joi, which gives the verdict and the message. Joi was a
 * third of the processor's CPU per re-delivered event.
 */
export function validateIngestEventsJob(data: unknown): {
  value?: IngestEventsJob;
  error?: Joi.ValidationError;
} {
  if (
    isRecord(data) &&
    data.v === 2 &&
    hasOnlyKeys(data, JOB_FIELDS) &&
    Array.isArray(data.requests) &&
    data.requests.length >= 1 &&
    data.requests.length <= JOB_MAX_EVENTS &&
    data.requests.every(isPlainRequest)
  ) {
    return { value: data as unknown as IngestEventsJobV2 };
  }
  const { value, error } = ingestEventsJobSchema.validate(data);
  return error ? { error } : { value: value as IngestEventsJob };
}
