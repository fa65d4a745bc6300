import Joi from 'joi';
import {
  EVENT_ID_PATTERN,
  MAX_EVENTS_PER_REQUEST,
  SITE_ID_PATTERN,
  type PropValue,
} from '../events/event-identity';
import { JOBS } from './names';

/**
 * Custom-metric points travel on a queue of their own (`metricQueueName`), as job `ingest-metrics`, so a
 * processor of an earlier release (which fails every job name it does not know on the events queue) never
 * sees them: after a rollback they wait for a processor that reads them.
 */
export function metricQueueName(queueName: string): string {
  return `${queueName}-metrics`;
}

/** One point as ingestion accepted it: id assigned, time in UTC. */
export interface TrackedMetricPoint {
  site_id: string;
  metric_id: string;
  name: string;
  value: number;
  /** ISO-8601 UTC with milliseconds. */
  timestamp: string;
  tags?: Record<string, PropValue>;
}

/** One accepted `POST /metrics` request: its points are always enqueued together, in one job. */
export interface AcceptedMetricRequest {
  request_id: string;
  received_at: string;
  points: TrackedMetricPoint[];
}

/** One job per group commit: whole requests, at most METRIC_JOB_MAX_POINTS points. */
export interface IngestMetricsJobV1 {
  v: 1;
  requests: AcceptedMetricRequest[];
}

/** A later format that only adds fields, readable here because its `compat` is 1 (as for event jobs). */
export interface IngestMetricsJobLater {
  v: number;
  compat: number;
  requests: AcceptedMetricRequest[];
}

export type IngestMetricsJob = IngestMetricsJobV1 | IngestMetricsJobLater;

export const METRIC_PAYLOAD_VERSION_WRITTEN = 1;
export const METRIC_PAYLOAD_VERSION_READ = 1;
export const METRIC_JOB_MAX_POINTS = MAX_EVENTS_PER_REQUEST;
export const METRIC_JOB_NAME = JOBS.ingestMetrics;

const pointSchema = Joi.object<TrackedMetricPoint>({
  site_id: Joi.string().pattern(SITE_ID_PATTERN).required(),
  metric_id: Joi.string().pattern(EVENT_ID_PATTERN).required(),
  name: Joi.string().min(1).required(),
  // Joi refuses Infinity and NaN for a number by default: only finite values pass.
  value: Joi.number().unsafe().required(),
  timestamp: Joi.string().isoDate().required(),
  tags: Joi.object(),
});

const requestFields = {
  request_id: Joi.string().max(200).required(),
  received_at: Joi.string().isoDate().required(),
  points: Joi.array().items(pointSchema).min(1).max(METRIC_JOB_MAX_POINTS).required(),
};

/** The consumer checks every metric payload with this; anything else is a poison message. */
export const ingestMetricsJobSchema = Joi.alternatives()
  .conditional('.v', {
    switch: [
      {
        is: 1,
        then: Joi.object<IngestMetricsJobV1>({
          v: Joi.valid(1).required(),
          requests: Joi.array().items(Joi.object(requestFields)).min(1).max(METRIC_JOB_MAX_POINTS).required(),
        }),
      },
      {
        is: Joi.number().integer().greater(METRIC_PAYLOAD_VERSION_READ),
        then: Joi.object<IngestMetricsJobLater>({
          v: Joi.number().integer().required(),
          compat: Joi.number().integer().min(1).max(METRIC_PAYLOAD_VERSION_READ).required(),
          requests: Joi.array()
            .items(
              Joi.object({
                ...requestFields,
                points: Joi.array()
                  .items(pointSchema.unknown(true))
                  .min(1)
                  .max(METRIC_JOB_MAX_POINTS)
                  .required(),
              }).unknown(true),
            )
            .min(1)
            .max(METRIC_JOB_MAX_POINTS)
            .required(),
        }).unknown(true),
      },
    ],
    otherwise: Joi.object({ v: Joi.valid(1).required() }).unknown(),
  })
  .required()
  .prefs({ abortEarly: true, convert: false });

/** A metric job of a later release without a `compat` this release reads: kept for a newer processor. */
export function isMetricJobTooNew(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const { v, compat } = data as { v?: unknown; compat?: unknown };
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= METRIC_PAYLOAD_VERSION_READ) return false;
  return !(typeof compat === 'number' && compat >= 1 && compat <= METRIC_PAYLOAD_VERSION_READ);
}

/** Requests in order, as few jobs as fit: a job holds whole requests and at most METRIC_JOB_MAX_POINTS. */
export function packMetricJobs(requests: readonly AcceptedMetricRequest[]): IngestMetricsJobV1[] {
  const jobs: IngestMetricsJobV1[] = [];
  let current: AcceptedMetricRequest[] = [];
  let points = 0;
  for (const request of requests) {
    if (current.length > 0 && points + request.points.length > METRIC_JOB_MAX_POINTS) {
      jobs.push({ v: 1, requests: current });
      current = [];
      points = 0;
    }
    current.push(request);
    points += request.points.length;
  }
  if (current.length > 0) jobs.push({ v: 1, requests: current });
  return jobs;
}
