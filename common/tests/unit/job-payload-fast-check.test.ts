import fc from 'fast-check';
import { ingestEventsJobSchema, validateIngestEventsJob } from '@analytics/common';

/** Values a field could hold in a payload, the right ones and plenty of wrong ones. */
const anyValue = fc.oneof(
  fc.constant(''),
  fc.string(),
  fc.constantFrom('site-1', 'ev_1', 'a:xyz', 'u:1', 'x:1', 'mobile', 'desktop', 'tv', 'DE', 'de', 'DEU'),
  fc.constantFrom(
    '2026-12-07T10:00:00.000Z',
    '2026-12-07T10:00:00Z',
    '2026-12-07',
    '2026-02-30T00:00:00.000Z',
  ),
  fc.integer(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.dictionary(fc.string(), fc.string()),
);

const FIELDS = [
  'site_id',
  'event_id',
  'event_type',
  'path',
  'user_id',
  'timestamp',
  'referrer',
  'props',
  'visitor',
  'device',
  'browser',
  'os',
  'country',
  'source',
  'utm_source',
  'unknown_field',
];

function validEvent(i: number): Record<string, unknown> {
  return {
    site_id: 'site-1',
    event_id: `ev-${i}`,
    event_type: 'page_view',
    path: '/docs',
    user_id: 'user-1',
    timestamp: '2026-12-07T10:00:00.000Z',
    referrer: 'example.com/search',
    props: { plan: 'pro', step: 1 },
    visitor: 'u:user-1',
    device: 'desktop',
    country: 'DE',
    source: 'example.com',
  };
}

/** A valid v2 job, then some fields of some events replaced, removed or added. */
const jobs = fc
  .record({
    events: fc.integer({ min: 1, max: 4 }),
    edits: fc.array(
      fc.record({
        event: fc.nat(),
        field: fc.constantFrom(...FIELDS),
        value: fc.option(anyValue, { nil: undefined }),
      }),
      { maxLength: 3 },
    ),
    requestEdit: fc.option(
      fc.record({ field: fc.constantFrom('request_id', 'received_at', 'extra'), value: anyValue }),
      {
        nil: undefined,
      },
    ),
    v: fc.constantFrom<unknown>(2, 2, 2, 1, '2', 3),
  })
  .map(({ events, edits, requestEdit, v }) => {
    const list = Array.from({ length: events }, (_, i) => validEvent(i));
    for (const { event, field, value } of edits) {
      const target = list[event % list.length]!;
      if (value === undefined) delete target[field];
      else target[field] = value;
    }
    const request: Record<string, unknown> = {
      request_id: 'req-1',
      received_at: '2026-12-07T10:00:01.000Z',
      events: list,
    };
    if (requestEdit) request[requestEdit.field] = requestEdit.value;
    return { v, requests: [request] };
  });

describe('validateIngestEventsJob', () => {
  it("when a payload passes the hand-written check, then the schema accepts it unchanged; otherwise the verdict is the schema's", () => {
    let fast = 0;
    fc.assert(
      fc.property(jobs, (job) => {
        const data = JSON.parse(JSON.stringify(job)) as unknown;
        const ours = validateIngestEventsJob(data);
        const joi = ingestEventsJobSchema.validate(data);
        expect(ours.error === undefined).toBe(joi.error === undefined);
        if (joi.error) expect(ours.error?.message).toBe(joi.error.message);
        else expect(ours.value).toEqual(joi.value);
        if (ours.value === data) fast += 1;
      }),
      { numRuns: 3000 },
    );
    // The generator keeps many payloads valid, so the fast path is exercised too.
    expect(fast).toBeGreaterThan(100);
  });

  it('when ingestion writes a job, then the fast path takes it as is', () => {
    const data = {
      v: 2,
      requests: [{ request_id: 'r', received_at: '2026-12-07T10:00:01.000Z', events: [validEvent(0)] }],
    };
    expect(validateIngestEventsJob(data).value).toBe(data);
  });

  it('when a payload carries an own __proto__ key, then the schema decides', () => {
    const data = JSON.parse(
      '{"v":2,"requests":[{"request_id":"r","received_at":"2026-12-07T10:00:01.000Z","events":[{"site_id":"s","event_id":"e","event_type":"x","timestamp":"2026-12-07T10:00:00.000Z","__proto__":{"a":1}}]}]}',
    ) as unknown;
    const ours = validateIngestEventsJob(data);
    expect(ours.value).not.toBe(data);
    expect(ours.error?.message).toBe(ingestEventsJobSchema.validate(data).error?.message);
  });
});
