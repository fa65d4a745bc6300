import fc from 'fast-check';
import { AppError, validateWith } from '@analytics/common';
import { pageView } from '../../../bench/src/fixtures';
import {
  provenBatch,
  provenSingleEvent,
  validateBatch,
  validateSingleEvent,
} from '../../src/validations/event-fast-check';
import { batchSchema, singleEventSchema } from '../../src/validations/event.validation';

/** What a validation ended in: its value, or the 400's code, message and details. */
function outcome(validate: () => unknown): unknown {
  try {
    return { value: validate() };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const { code, status, message, details } = error;
    return { error: { code, status, message, details } };
  }
}

const chars = (length: number, char = 'a'): string => char.repeat(length);

/** Strings around every limit of the schema, and characters Joi's rules and regexes care about. */
const edgyString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '/',
    '/a',
    'a/',
    chars(63),
    chars(64),
    chars(65),
    `/${chars(2047)}`,
    `/${chars(2048)}`,
    chars(120, '😀'),
    chars(121, '😀'),
    chars(256),
    chars(257),
    chars(512),
    chars(513),
    chars(200),
    chars(201),
    'page_view',
    'pageview',
    'PAGE_VIEW',
    'Order Completed',
    'a\u0000b',
    'tab\there',
    '\uD800',
    'é',
    '81.2.69.142',
    '2001:db8::1',
    'site.1',
    'ev-1',
    'ev.1',
    '__proto__',
    'constructor',
  ),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ maxLength: 8 }),
);

const timestampValue = fc.oneof(
  fc.constantFrom(
    '2026-12-07T10:00:00.000Z',
    '2026-12-07T10:00:00Z',
    '2026-12-07T10:00Z',
    '2026-12-07T12:00:00.000+02:00',
    '2026-12-07T10:00:00.0000000Z',
    '2026-12-07t10:00:00.000z',
    '2026-02-30T00:00:00.000Z',
    '2024-02-29T23:59:59.999Z',
    '2026-12-07T24:00:00.000Z',
    '2026-12-07',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    `2026-12-07T10:00:00.${chars(60, '0')}Z`,
    'yesterday',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  edgyString,
  timestampValue,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.constant({ ip: '81.2.69.142' }),
  fc.constant({ user_agent: 'Mozilla/5.0' }),
  fc.constant({ user_agent: '' }),
  fc.constant({ a: { nested: 1 } }),
  fc.dictionary(edgyString, fc.oneof(edgyString, fc.integer(), fc.boolean(), fc.constant(null)), {
    maxKeys: 22,
  }),
);

const propsValue = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.constantFrom('plan', 'step', chars(64), chars(65), ''), fc.string({ maxLength: 4 })),
    fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.constantFrom(chars(256), chars(257)),
      fc.integer(),
      fc.double(),
      fc.boolean(),
    ),
    { maxKeys: 4 },
  ),
  fc
    .integer({ min: 19, max: 21 })
    .map((count) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))),
);

const FIELDS = [
  'site_id',
  'event_type',
  'path',
  'user_id',
  'timestamp',
  'event_id',
  'referrer',
  'props',
  'context',
  'hash_routing',
  'write_key',
  'unknown_field',
] as const;

/** A valid event of some shape: a page view or another event, with some optional fields. */
const validEvent = fc
  .record(
    {
      site_id: fc.constantFrom('shop', 'site.1', chars(64)),
      event_type: fc.constantFrom('page_view', 'pageview', 'signup', 'Order Completed', chars(120, '😀')),
      path: fc.constantFrom('/', '/docs?utm_source=x#top', `/${chars(2047)}`),
      user_id: fc.constantFrom('user-1', chars(256)),
      timestamp: fc.constantFrom('2026-12-07T10:00:00.000Z', '2026-12-07T10:00:00Z'),
      event_id: fc.constantFrom('ev-1', chars(64)),
      referrer: fc.constantFrom('', 'https://www.example.com/search', chars(2048)),
      props: propsValue,
      context: fc.constantFrom({ user_agent: 'Mozilla/5.0' }, { ip: '81.2.69.142' }, {}),
      hash_routing: fc.boolean(),
      write_key: fc.constantFrom('wk_1', chars(200)),
    },
    { requiredKeys: ['site_id', 'event_type'] },
  )
  .map((event) => event as Record<string, unknown>);

/** A valid event, then some fields replaced by anything, removed or added. */
const editedEvent = fc
  .record({
    event: validEvent,
    edits: fc.array(
      fc.record({
        field: fc.constantFrom(...FIELDS),
        value: fc.option(
          fc.oneof(
            anyValue,
            timestampValue,
            propsValue,
            edgyString.map((s) => `/${s}`),
          ),
          { nil: undefined },
        ),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ event, edits }) => {
    const edited = { ...event };
    for (const { field, value } of edits) {
      if (value === undefined) delete edited[field];
      else edited[field] = value;
    }
    return edited;
  });

/** Undefined (left out of the JSON) three times out of four. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary, weight: 1 });

/** Most bodies come as JSON; the JSON text of some carries an own `__proto__` key. */
const asParsedJson = (value: unknown, protoKey: boolean): unknown => {
  const text = JSON.stringify(value);
  return JSON.parse(protoKey && text.startsWith('{"') ? `{"__proto__":{"x":1},${text.slice(1)}` : text);
};

describe('the fast path of POST /event and POST /events validation', () => {
  it("when the hand check accepts an event, then Joi accepts it with an equal value; the endpoint's verdict is always Joi's", () => {
    let fast = 0;
    fc.assert(
      fc.property(editedEvent, fc.boolean(), fc.boolean(), (event, viaJson, protoKey) => {
        const body = viaJson ? asParsedJson(event, protoKey) : event;
        const joi = singleEventSchema.validate(body);
        const proven = provenSingleEvent(body);
        if (proven !== undefined) {
          fast += 1;
          expect(joi.error).toBeUndefined();
          expect(proven).toEqual(joi.value);
        }
        expect(outcome(() => validateSingleEvent(body))).toEqual(
          outcome(() => validateWith(singleEventSchema, body)),
        );
      }),
      { numRuns: 5000 },
    );
    // Many generated events stay valid, so the fast path is exercised, not only the fallback.
    expect(fast).toBeGreaterThan(250);
  });

  it("when the hand check accepts a batch, then Joi accepts it with an equal value; the endpoint's verdict is always Joi's", () => {
    let fast = 0;
    // Mostly the bench's page views, so that many batches are valid throughout.
    const typicalEvent = fc.nat().map((i) => pageView('shop', i));
    const batches = fc.record({
      events: fc.option(
        fc.oneof(
          { arbitrary: fc.array(typicalEvent, { minLength: 1, maxLength: 4 }), weight: 3 },
          {
            arbitrary: fc.array(fc.oneof(typicalEvent, validEvent, editedEvent), { maxLength: 4 }),
            weight: 3,
          },
          { arbitrary: anyValue, weight: 1 },
        ),
        { freq: 20, nil: undefined },
      ),
      write_key: rarely(fc.oneof(fc.constantFrom('wk_1', chars(200), chars(201), ''), fc.integer())),
      extra: rarely(anyValue),
    });
    fc.assert(
      fc.property(batches, rarely(fc.constant(true)), (batch, protoKey) => {
        const body = asParsedJson(batch, protoKey === true);
        const joi = batchSchema.validate(body);
        const proven = provenBatch(body);
        if (proven !== undefined) {
          fast += 1;
          expect(joi.error).toBeUndefined();
          expect(proven).toEqual(joi.value);
        }
        expect(outcome(() => validateBatch(body))).toEqual(outcome(() => validateWith(batchSchema, body)));
      }),
      { numRuns: 3000 },
    );
    expect(fast).toBeGreaterThan(300);
  });

  it('when a batch holds more events than allowed, or none, then Joi decides', () => {
    const event = { site_id: 'shop', event_type: 'signup' };
    for (const count of [0, 500, 501]) {
      const body = { events: Array.from({ length: count }, () => ({ ...event })) };
      const joi = batchSchema.validate(body);
      const proven = provenBatch(body);
      expect(proven === undefined ? 'joi' : 'fast').toBe(count === 500 ? 'fast' : 'joi');
      expect(outcome(() => validateBatch(body))).toEqual(outcome(() => validateWith(batchSchema, body)));
      if (proven) expect(proven).toEqual(joi.value);
    }
  });

  it("when the bench's page view arrives, alone or 100 in a batch, then the fast path takes it", () => {
    const body = JSON.parse(JSON.stringify(pageView('bench-site', 7))) as unknown;
    expect(provenSingleEvent(body)).toBe(body);
    const batch = JSON.parse(
      JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => pageView('bench-site', i)) }),
    ) as unknown;
    expect(provenBatch(batch)).toBe(batch);
  });

  it("when the tracker's page view or custom event arrives, then the fast path takes it", () => {
    // As tracker/src/tracker.ts builds it: site, write key, the event, the referrer, hash routing.
    const pageViewBody = {
      site_id: 'shop',
      write_key: 'wk_0123456789abcdef',
      event_type: 'page_view',
      path: '/pricing?plan=pro#faq',
      referrer: 'https://www.google.com/',
      hash_routing: true,
    };
    const customBody = {
      site_id: 'shop',
      write_key: 'wk_0123456789abcdef',
      event_type: 'Signup Clicked',
      path: '/pricing',
      props: { plan: 'pro', seats: 3, annual: false },
    };
    for (const sent of [pageViewBody, customBody]) {
      const body = JSON.parse(JSON.stringify(sent)) as unknown;
      expect(provenSingleEvent(body)).toBe(body);
    }
  });
});
