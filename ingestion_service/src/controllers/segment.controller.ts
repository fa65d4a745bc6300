import type { Request, RequestHandler } from 'express';
import { AppError } from '@analytics/common';
import { isPlainObject, toIntakeEvent } from '../mappings/foreign-event.mapping';
import { mapSegmentMessage, SEGMENT_MESSAGE_MAX_BYTES, type SegmentType } from '../mappings/segment.mapping';
import type { DroppedEvents } from '../services/dropped-events.service';
import type { IntakeEvent } from '../services/event-enrichment.service';
import type { EventIntake } from '../services/event-intake.service';
import { intakeRequest } from './event.controller';

/** One message Segment's answer lists as dropped. */
export interface DroppedMessage {
  index: number;
  messageId: string | null;
  reason: string;
}

/** The write key as Segment's libraries send it: the user name of HTTP Basic authentication. */
export function basicAuthUser(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  return user === '' ? undefined : user;
}

function messageIdOf(message: unknown): string | null {
  if (!isPlainObject(message)) return null;
  const { messageId } = message;
  return typeof messageId === 'string' || typeof messageId === 'number' ? String(messageId) : null;
}

export interface SegmentControllerDeps {
  intake: EventIntake;
  dropped: DroppedEvents;
  maxEventAgeMs: number;
}

/**
 * Segment's HTTP tracking API: every message of the request is mapped on its own; those that cannot be
 * are dropped and listed (200), the others are enqueued like POST /event's before the answer.
 */
export function createSegmentController(deps: SegmentControllerDeps): {
  /** `type` undefined: `/v1/batch`, whose messages carry their own. */
  postMessages: (type?: SegmentType) => RequestHandler;
} {
  const siteOf = (req: Request, body: Record<string, unknown>): string =>
    deps.intake.siteForKeys([
      { field: 'authorization', key: basicAuthUser(req.get('authorization')) },
      { field: 'writeKey', key: typeof body.writeKey === 'string' ? body.writeKey : undefined },
      { field: 'x-api-key', key: req.get('x-api-key') },
    ]);

  return {
    postMessages: (type) => async (req, res) => {
      const request = intakeRequest(req, res);
      const body: unknown = req.body;
      if (!isPlainObject(body)) {
        throw new AppError('invalid-request', 'The body must be a JSON object', { status: 400 });
      }
      if (type === undefined && !Array.isArray(body.batch)) {
        throw new AppError('invalid-request', 'batch must be an array of messages', {
          status: 400,
          details: [{ field: 'batch', message: 'batch must be an array' }],
        });
      }
      const siteId = siteOf(req, body);
      const messages: unknown[] = type === undefined ? (body.batch as unknown[]) : [body];
      const events: IntakeEvent[] = [];
      const dropped: DroppedMessage[] = [];
      let propsDropped = 0;
      messages.forEach((message, index) => {
        const drop = (reason: string) => dropped.push({ index, messageId: messageIdOf(message), reason });
        if (Buffer.byteLength(JSON.stringify(message) ?? '') > SEGMENT_MESSAGE_MAX_BYTES) {
          drop('the message is larger than 32 KB');
          return;
        }
        const mapped = mapSegmentMessage(message, {
          endpointType: type,
          batchSentAt: type === undefined ? body.sentAt : undefined,
          batchContext: type === undefined ? body.context : undefined,
          receivedAt: request.receivedAt,
          maxAgeMs: deps.maxEventAgeMs,
        });
        if (mapped.kind === 'unmappable') drop(mapped.reason);
        else if (mapped.kind === 'event') {
          events.push(toIntakeEvent(siteId, mapped.event, request.receivedAt));
          propsDropped += mapped.propsDropped;
        }
      });
      if (events.length > 0) await deps.intake.acceptMapped(siteId, events, request, { keyless: false });
      // counted once the events are in Redis: a 503 leaves them to the client's resend
      if (dropped.length > 0) deps.dropped.count('unmappable', dropped.length);
      if (propsDropped > 0) deps.dropped.count('props_dropped', propsDropped);
      res.locals.acceptedEvents = events.length;
      res.status(200).json(dropped.length > 0 ? { success: true, dropped } : { success: true });
    },
  };
}
