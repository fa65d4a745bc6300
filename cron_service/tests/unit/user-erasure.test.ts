import type { IngestEventsJob, TrackedEvent } from '@analytics/common';
import { payloadWithoutUser } from '../../src/repositories/event-queue.repository';

const event = (id: string, user?: string, site = 's'): TrackedEvent => ({
  site_id: site,
  event_id: id,
  event_type: 'page_view',
  path: '/',
  timestamp: '2026-12-01T00:00:00.000Z',
  ...(user === undefined ? {} : { user_id: user }),
});
const request = (id: string, events: TrackedEvent[]) => ({
  request_id: id,
  received_at: '2026-12-01T00:00:00.000Z',
  events,
});

describe('payloadWithoutUser', () => {
  it('when no event is the user’s (another site’s same id included), then the job is untouched', () => {
    const job: IngestEventsJob = {
      v: 2,
      requests: [request('r', [event('a', 'u2'), event('b', 'u1', 'other')])],
    };
    expect(payloadWithoutUser(job, 's', 'u1')).toEqual({ kind: 'untouched' });
  });

  it('when every event is the user’s, then the job is removed', () => {
    const job: IngestEventsJob = {
      v: 2,
      requests: [request('r1', [event('a', 'u1')]), request('r2', [event('b', 'u1')])],
    };
    expect(payloadWithoutUser(job, 's', 'u1')).toEqual({ kind: 'remove' });
    const v1: IngestEventsJob = { v: 1, ...request('r', [event('a', 'u1')]) };
    expect(payloadWithoutUser(v1, 's', 'u1')).toEqual({ kind: 'remove' });
  });

  it('when some are, then the job keeps the others, drops requests left empty, and keeps its version and compat', () => {
    const job = {
      v: 3,
      compat: 2,
      requests: [
        request('r1', [event('a', 'u1')]),
        request('r2', [event('b', 'u1'), event('c'), event('d', 'u2')]),
      ],
    } as IngestEventsJob;
    expect(payloadWithoutUser(job, 's', 'u1')).toEqual({
      kind: 'rewrite',
      data: { v: 3, compat: 2, requests: [request('r2', [event('c'), event('d', 'u2')])] },
    });
    const v1: IngestEventsJob = { v: 1, ...request('r', [event('a', 'u1'), event('b')]) };
    expect(payloadWithoutUser(v1, 's', 'u1')).toEqual({
      kind: 'rewrite',
      data: { v: 1, ...request('r', [event('b')]) },
    });
  });
});
