import { randomUUID } from 'node:crypto';
import {
  invalidFields,
  rejectOwnProtoKeys,
  setContextValue,
  validateWith,
  type AcceptedMetricRequest,
  type TrackedMetricPoint,
} from '@analytics/common';
import {
  metricBatchSchema,
  singleMetricSchema,
  type MetricBatchInput,
  type MetricInput,
} from '../validations/metric.validation';
import { timestampWindowDetails } from '../validations/event.validation';
import type { EventEnricher } from './event-enrichment.service';
import { requireSameSite, type EventIntake, type IntakeRequest } from './event-intake.service';
import type { CommitReceipt, GroupCommit } from './group-commit.service';

export interface MetricIntakeDeps {
  /** The write-key check of the event intake (same keys, same answers). */
  keys: Pick<EventIntake, 'siteForKeys'>;
  /** The per-address rate-limit key (the same as for events). */
  enricher: Pick<EventEnricher, 'addressKeyOf'>;
  /** Counts the rate limits and stores the job, together with other requests' (group commit). */
  commits: GroupCommit<AcceptedMetricRequest>;
  maxEventAgeMs: number;
}

/**
 * `POST /metrics`, HTTP-free: validate, check the write key, assign ids, then count the rate limits (a
 * point counts as an event against the site's limit) and enqueue the request's points whole, in one job
 * of the metrics queue, answering only once Redis holds it.
 */
export class MetricIntake {
  constructor(private readonly deps: MetricIntakeDeps) {}

  async accept(
    request: IntakeRequest,
  ): Promise<
    | { single: true; metric_id: string; receipt: CommitReceipt }
    | { single: false; metric_ids: string[]; receipt: CommitReceipt }
  > {
    const body = request.body as { metrics?: unknown } | null;
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'metrics' in body) {
      const { metric_ids, receipt } = await this.acceptBatch(request);
      return { single: false, metric_ids, receipt };
    }
    const { metric_id, receipt } = await this.acceptOne(request);
    return { single: true, metric_id, receipt };
  }

  private async acceptOne(request: IntakeRequest): Promise<{ metric_id: string; receipt: CommitReceipt }> {
    rejectProtoKeys(request.body, '');
    const input = validateWith<MetricInput>(singleMetricSchema, request.body);
    this.requireTimeWindow([input], () => 'timestamp', request);
    const siteId = this.deps.keys.siteForKeys([
      { field: 'x-api-key', key: request.headerWriteKey },
      { field: 'write_key', key: input.write_key },
    ]);
    requireSameSite(siteId, [{ field: 'site_id', siteId: input.site_id }]);
    const { points, receipt } = await this.enqueue(siteId, [input], request);
    return { metric_id: points[0]!.metric_id, receipt };
  }

  private async acceptBatch(
    request: IntakeRequest,
  ): Promise<{ metric_ids: string[]; receipt: CommitReceipt }> {
    rejectProtoKeys(request.body, '');
    const metrics = (request.body as { metrics?: unknown }).metrics;
    if (Array.isArray(metrics)) metrics.forEach((point, i) => rejectProtoKeys(point, `metrics[${i}]`));
    const input = validateWith<MetricBatchInput>(metricBatchSchema, request.body);
    this.requireTimeWindow(input.metrics, (i) => `metrics[${i}].timestamp`, request);
    const siteId = this.deps.keys.siteForKeys([
      { field: 'x-api-key', key: request.headerWriteKey },
      { field: 'write_key', key: input.write_key },
      ...input.metrics.map((point, i) => ({ field: `metrics[${i}].write_key`, key: point.write_key })),
    ]);
    requireSameSite(
      siteId,
      input.metrics.map((point, i) => ({ field: `metrics[${i}].site_id`, siteId: point.site_id })),
    );
    const { points, receipt } = await this.enqueue(siteId, input.metrics, request);
    return { metric_ids: points.map((point) => point.metric_id), receipt };
  }

  private requireTimeWindow(
    points: readonly MetricInput[],
    fieldOf: (index: number) => string,
    request: IntakeRequest,
  ): void {
    const clock = { now: request.receivedAt.getTime(), maxAgeMs: this.deps.maxEventAgeMs };
    const outside = timestampWindowDetails(points, fieldOf, clock);
    if (outside.length > 0) throw invalidFields(outside);
  }

  private async enqueue(
    siteId: string,
    inputs: MetricInput[],
    request: IntakeRequest,
  ): Promise<{ points: TrackedMetricPoint[]; receipt: CommitReceipt }> {
    setContextValue('siteId', siteId);
    const receivedAt = request.receivedAt.toISOString();
    const points = inputs.map((input) => toTrackedPoint(input, receivedAt));
    const ipKey = await this.deps.enricher.addressKeyOf(request);
    const receipt = await this.deps.commits.commit(
      { ipKey, siteId, events: points.length },
      { request_id: request.requestId, received_at: receivedAt, points },
    );
    return { points, receipt };
  }
}

/** The body and each point and its tags may not carry an own `__proto__` key. */
function rejectProtoKeys(point: unknown, at: string): void {
  const { tags } = (point as { tags?: unknown } | null) ?? {};
  rejectOwnProtoKeys([
    { value: point, at },
    { value: tags, at: at ? `${at}.tags` : 'tags' },
  ]);
}

/** Assigns an id when absent and defaults the time to the request's arrival. */
export function toTrackedPoint(input: MetricInput, receivedAt: string): TrackedMetricPoint {
  const point: TrackedMetricPoint = {
    site_id: input.site_id,
    metric_id: input.metric_id ?? randomUUID(),
    name: input.name,
    value: input.value,
    timestamp: input.timestamp ?? receivedAt,
  };
  if (input.tags !== undefined) point.tags = input.tags;
  return point;
}
