/** Job names on the events queue; the payload of each is in payloads.ts. */
export const JOBS = Object.freeze({
  ingestEvents: 'ingest-events',
} as const);

export type JobName = (typeof JOBS)[keyof typeof JOBS];
