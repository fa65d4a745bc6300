/**
 * Job names; the payload of each is in payloads.ts. `ingest-metrics` runs on the metrics queue
 * (metric-payloads.ts), never on the events queue.
 */
export const JOBS = Object.freeze({
  ingestEvents: 'ingest-events',
  ingestMetrics: 'ingest-metrics',
} as const);

export type JobName = (typeof JOBS)[keyof typeof JOBS];
