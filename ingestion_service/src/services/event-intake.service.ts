import { randomUUID } from 'node:crypto';
import {
  AppError,
  JOB_MAX_EVENTS,
  logger,
  rejectOwnProtoKeys,
  setContextValue,
  invalidFields,
  type TrackedEvent,
} from '@analytics/common';
import type { CommitReceipt, GroupCommit } from './group-commit.service';
import { canonicalEventType, statisticPath } from '../validations/event-fields.validation';
import type { SiteKeyCache } from './site-key-cache.service';
import type { DroppedEvents } from './dropped-events.service';
import type { EventEnricher, IntakeEvent, RequestIdentity } from './event-enrichment.service';
import {
  timestampWindowDetails,
  type EventInput,
  type ValidationClock,
} from '../validations/event.validation';
import { validateBatch, validateSingleEvent } from '../validations/event-fast-check';

export interface IntakeRequest extends RequestIdentity {
  body: unknown;
  /** The `x-api-key` header, if sent. */
  headerWriteKey: string | undefined;
  requestId: string;
}

export interface EventIntakeDeps {
  sites: SiteKeyCache;
  /** Derives the visitor, device, country, source and UTM tags; leaves bots' events out. */
  enricher: EventEnricher;
  dropped: DroppedEvents;
  /** Counts the rate limits and stores the job, together with other requests' (group commit). */
  commits: GroupCommit;
  maxEventAgeMs: number;
}

/**
 * The ingestion flow, HTTP-free: validate, check the write key against the in-memory site view,
 * normalise, then count the rate limits and enqueue the request's events, whole, in one job.
 */
export class EventIntake {
  constructor(private readonly deps: EventIntakeDeps) {}

  async acceptEvent(request: IntakeRequest): Promise<{ event_id: string; receipt: CommitReceipt }> {
    rejectProtoKeys(request.body, '');
    const input = validateSingleEvent(request.body);
    this.requireTimeWindow([input], () => 'timestamp', request);
    const siteId = this.siteForKeys([
      { field: 'x-api-key', key: request.headerWriteKey },
      { field: 'write_key', key: input.write_key },
    ]);
    requireSameSite(siteId, [{ field: 'site_id', siteId: input.site_id }]);
    const { events, receipt } = await this.enqueue(siteId, [input], request);
    return { event_id: events[0]!.event_id, receipt };
  }

  async acceptBatch(
    request: IntakeRequest,
  ): Promise<{ accepted: number; event_ids: string[]; receipt: CommitReceipt }> {
    rejectProtoKeys(request.body, '');
    const events = (request.body as { events?: unknown } | null)?.events;
    if (Array.isArray(events)) events.forEach((event, i) => rejectProtoKeys(event, `events[${i}]`));
    const input = validateBatch(request.body);
    this.requireTimeWindow(input.events, (i) => `events[${i}].timestamp`, request);
    const siteId = this.siteForKeys([
      { field: 'x-api-key', key: request.headerWriteKey },
      { field: 'write_key', key: input.write_key },
      ...input.events.map((event, i) => ({ field: `events[${i}].write_key`, key: event.write_key })),
    ]);
    requireSameSite(
      siteId,
      input.events.map((event, i) => ({ field: `events[${i}].site_id`, siteId: event.site_id })),
    );
    const { events: accepted, receipt } = await this.enqueue(siteId, input.events, request);
    return { accepted: accepted.length, event_ids: accepted.map((event) => event.event_id), receipt };
  }

  /** After the schema: every timestamp within the accepted window around the request's arrival. */
  private requireTimeWindow(
    events: readonly EventInput[],
    fieldOf: (index: number) => string,
    request: IntakeRequest,
  ): void {
    const clock: ValidationClock = { now: request.receivedAt.getTime(), maxAgeMs: this.deps.maxEventAgeMs };
    const outside = timestampWindowDetails(events, fieldOf, clock);
    if (outside.length > 0) throw invalidFields(outside);
  }

  /**
   * Events another product's client sent, already mapped (mappings/) and checked against the field
   * rules: enriched, counted and enqueued like POST /event's, answered only once Redis holds them. More
   * than a job's worth go in several commits at once; a client resends on failure, and each event is
   * counted once by its id. `keyless`: the request came without a write key (its site was found by a
   * domain or a site id) and draws on the site's keyless budget.
   */
  async acceptMapped(
    siteId: string,
    events: readonly IntakeEvent[],
    request: Omit<IntakeRequest, 'body' | 'headerWriteKey'>,
    options: { keyless: boolean },
  ): Promise<void> {
    const chunks: IntakeEvent[][] = [];
    for (let i = 0; i < events.length; i += JOB_MAX_EVENTS) chunks.push(events.slice(i, i + JOB_MAX_EVENTS));
    await Promise.all(chunks.map((chunk) => this.commitEvents(siteId, chunk, request, options.keyless)));
  }

  /** Keyless endpoints find sites by domain or id: until the first load those answers would be wrong. */
  requireSitesLoaded(): void {
    if (!this.deps.sites.isLoaded) {
      throw new AppError('sites-unavailable', 'Site keys are still loading; retry shortly', {
        status: 503,
        retryAfterSeconds: 2,
      });
    }
  }

  /**
   * Every key the client sent must be the same one, and it must belong to a known site (also used by
   * `POST /metrics`).
   */
  siteForKeys(candidates: { field: string; key: string | undefined }[]): string {
    const sent = candidates.filter((c): c is { field: string; key: string } => c.key !== undefined);
    const first = sent[0];
    if (!first) {
      throw new AppError(
        'missing-write-key',
        'Send the site write key in x-api-key (or "write_key" in the body)',
        {
          status: 401,
        },
      );
    }
    const conflicting = sent.filter((c) => c.key !== first.key);
    if (conflicting.length > 0) {
      throw new AppError('invalid-write-key', 'Different write keys were sent in one request', {
        status: 401,
        details: conflicting.map((c) => ({
          field: c.field,
          message: `differs from the key in ${first.field}`,
        })),
      });
    }
    this.requireSitesLoaded();
    const siteId = this.deps.sites.siteForWriteKey(first.key);
    if (siteId === undefined) {
      throw new AppError('invalid-write-key', 'The write key is not valid', {
        status: 401,
        details: [{ field: first.field, message: 'is not the write key of any site' }],
      });
    }
    return siteId;
  }

  private async enqueue(
    siteId: string,
    inputs: EventInput[],
    request: IntakeRequest,
  ): Promise<{ events: TrackedEvent[]; receipt: CommitReceipt }> {
    const receivedAt = request.receivedAt.toISOString();
    const events = inputs.map((input) => toTrackedEvent(input, receivedAt));
    const receipt = await this.commitEvents(
      siteId,
      inputs.map((input, i) => ({
        referrer: input.referrer,
        path: input.path,
        context: input.context,
        event: events[i]!,
      })),
      request,
      false,
    );
    return { events, receipt };
  }

  /** Enriches the events (leaving bots' out), then counts the limits and enqueues them in one job. */
  private async commitEvents(
    siteId: string,
    inputs: IntakeEvent[],
    request: Omit<IntakeRequest, 'body' | 'headerWriteKey'>,
    keyless: boolean,
  ): Promise<CommitReceipt> {
    setContextValue('siteId', siteId);
    const { kept, bots, addressKey } = await this.deps.enricher.enrich(siteId, inputs, request);
    if (bots > 0) {
      this.deps.dropped.count('bot', bots);
      logger.debug('bot events dropped', { events: bots });
    }
    // A request of bots only is answered as usual, and neither counted nor enqueued.
    if (kept.length === 0) return {};
    return this.deps.commits.commit(
      { ipKey: addressKey, siteId, events: kept.length, keyless },
      { request_id: request.requestId, received_at: request.receivedAt.toISOString(), events: kept },
    );
  }
}

/** The body, and each event, its props and its context, may not carry an own `__proto__` key. */
function rejectProtoKeys(event: unknown, at: string): void {
  const { props, context } = (event as { props?: unknown; context?: unknown } | null) ?? {};
  rejectOwnProtoKeys([
    { value: event, at },
    { value: props, at: at ? `${at}.props` : 'props' },
    { value: context, at: at ? `${at}.context` : 'context' },
  ]);
}

export function requireSameSite(keySiteId: string, events: { field: string; siteId: string }[]): void {
  const foreign = events.filter((event) => event.siteId !== keySiteId);
  if (foreign.length > 0) {
    throw new AppError('invalid-write-key', 'The write key does not belong to the site of every event', {
      status: 401,
      details: foreign.slice(0, 100).map((event) => ({
        field: event.field,
        message: `is not the site of this write key`,
      })),
    });
  }
}

/**
 * Resolves the alias, assigns an id, cuts query and fragment from the path, defaults the time. The
 * referrer is left to enrichment, which keeps only its host and path.
 */
export function toTrackedEvent(input: EventInput, receivedAt: string): TrackedEvent {
  const event: TrackedEvent = {
    site_id: input.site_id,
    event_id: input.event_id ?? randomUUID(),
    event_type: canonicalEventType(input.event_type),
    timestamp: input.timestamp ?? receivedAt,
  };
  if (input.path !== undefined) event.path = statisticPath(input.path, input.hash_routing === true);
  if (input.user_id !== undefined) event.user_id = input.user_id;
  if (input.props !== undefined) event.props = input.props;
  return event;
}
