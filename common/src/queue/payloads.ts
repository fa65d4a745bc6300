import Joi from 'joi';
import {
  EVENT_LIMITS,
  eventIdRule,
  eventTypeRule,
  pathRule,
  propsRule,
  referrerRule,
  siteIdRule,
  userIdRule,
  type PropValue,
} from '../events/event-fields';
import { JOBS } from './names';

/** One event as ingestion accepted and normalised it: alias resolved, id assigned, time in UTC. */
export interface TrackedEvent {
  site_id: string;
  event_id: string;
  event_type: string;
  /** Without query string and fragment. */
  path?: string;
  user_id?: string;
  /** ISO-8601 UTC with milliseconds. */
  timestamp: string;
  referrer?: string;
  props?: Record<string, PropValue>;
}

/** One accepted request (`/event` or `/events`) is one job: a batch is enqueued atomically. */
export interface IngestEventsJob {
  v: 1;
  request_id: string;
  received_at: string;
  events: TrackedEvent[];
}

/** Every job name with its payload type: producer and consumer agree through this map. */
export interface JobPayloads {
  [JOBS.ingestEvents]: IngestEventsJob;
}

const trackedEventSchema = Joi.object<TrackedEvent>({
  site_id: siteIdRule.required(),
  event_id: eventIdRule.required(),
  event_type: eventTypeRule.required(),
  path: pathRule,
  user_id: userIdRule,
  timestamp: Joi.string().isoDate().required(),
  referrer: referrerRule,
  props: propsRule,
});

/** The consumer checks every payload with this; anything else is a poison message. */
export const ingestEventsJobSchema = Joi.object<IngestEventsJob>({
  v: Joi.number().valid(1).required(),
  request_id: Joi.string().max(200).required(),
  received_at: Joi.string().isoDate().required(),
  events: Joi.array().items(trackedEventSchema).min(1).max(EVENT_LIMITS.batchMaxEvents).required(),
});
