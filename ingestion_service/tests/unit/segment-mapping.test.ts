import {
  mapSegmentMessage,
  segmentEventId,
  segmentTime,
  type SegmentMapping,
  type SegmentMessageOptions,
} from '../../src/mappings/segment.mapping';
import { capProps, foreignPath, withUtmTags } from '../../src/mappings/foreign-event.mapping';

const RECEIVED = new Date('2026-12-01T12:00:00.000Z');
const OPTIONS: SegmentMessageOptions = { receivedAt: RECEIVED, maxAgeMs: 7 * 86_400_000 };

function mapped(message: Record<string, unknown>, options: Partial<SegmentMessageOptions> = {}) {
  return mapSegmentMessage(
    { anonymousId: 'anon-1', messageId: 'm-1', ...message },
    { ...OPTIONS, ...options },
  );
}

function eventOf(result: SegmentMapping) {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result.event;
}

describe('mapSegmentMessage: what becomes which event', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'track → the event name as event_type',
      { type: 'track', event: 'Order Completed', properties: { total: 30 } },
      { event_type: 'Order Completed', props: { total: 30 } },
    ],
    [
      'track with context.page.path → where it happened',
      { type: 'track', event: 'signup', context: { page: { path: '/join' } } },
      { event_type: 'signup', path: '/join' },
    ],
    [
      'page → page_view, path from properties.path',
      { type: 'page', properties: { path: '/pricing', url: 'https://shop.example/other' } },
      { event_type: 'page_view', path: '/pricing' },
    ],
    [
      'page → else context.page.path',
      { type: 'page', context: { page: { path: '/docs/a' } }, properties: { url: 'https://x.example/b' } },
      { event_type: 'page_view', path: '/docs/a' },
    ],
    [
      'page → else the path of properties.url (query cut)',
      { type: 'page', properties: { url: 'https://shop.example/cart?step=2#top' } },
      { event_type: 'page_view', path: '/cart', rawPath: '/cart?step=2' },
    ],
    [
      'page with a query in properties.path → cut from the path',
      { type: 'page', properties: { path: '/a?utm_source=news' } },
      { event_type: 'page_view', path: '/a', rawPath: '/a?utm_source=news' },
    ],
    [
      'screen → page_view at / + the name',
      { type: 'screen', name: 'Home Screen' },
      { event_type: 'page_view', path: '/Home Screen' },
    ],
    [
      'userId → user_id (a number as text), no client visitor id',
      { type: 'track', event: 'x', userId: 42 },
      { user_id: '42', clientVisitorId: undefined },
    ],
    [
      'anonymousId alone → names the anonymous visitor',
      { type: 'track', event: 'x' },
      { user_id: undefined, clientVisitorId: 'anon-1' },
    ],
    [
      'context.ip and context.userAgent → the end user',
      { type: 'track', event: 'x', context: { ip: '81.2.69.142', userAgent: 'Mozilla/5.0 Firefox/120.0' } },
      { context: { ip: '81.2.69.142', user_agent: 'Mozilla/5.0 Firefox/120.0' } },
    ],
    [
      'a context.ip that is no IP → ignored',
      { type: 'track', event: 'x', context: { ip: 'nope' } },
      { context: undefined },
    ],
    [
      'page referrer from properties, else context.page',
      { type: 'page', properties: { path: '/', referrer: 'https://news.ycombinator.com/item?id=1' } },
      { referrer: 'https://news.ycombinator.com/item?id=1' },
    ],
    [
      'context.page.referrer on a track',
      { type: 'track', event: 'x', context: { page: { referrer: 'https://github.com/' } } },
      { referrer: 'https://github.com/' },
    ],
    [
      'context.campaign → UTM tags joined to the raw path',
      {
        type: 'page',
        properties: { path: '/landing' },
        context: {
          campaign: { name: 'spring', source: 'newsletter', medium: 'email', term: 't', content: 'c' },
        },
      },
      {
        path: '/landing',
        rawPath:
          '/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_term=t&utm_content=c',
      },
    ],
    [
      'a UTM tag in the URL wins over context.campaign',
      {
        type: 'page',
        properties: { url: 'https://shop.example/l?utm_source=ads' },
        context: { campaign: { source: 'newsletter' } },
      },
      { rawPath: '/l?utm_source=ads' },
    ],
    [
      'timestamp → the time',
      { type: 'track', event: 'x', timestamp: '2026-12-01T11:00:00+01:00' },
      { timestamp: '2026-12-01T10:00:00.000Z' },
    ],
    [
      'messageId → a namespaced digest',
      { type: 'track', event: 'x', messageId: 'ajs-next-1733-ü/ß' },
      { event_id: segmentEventId('ajs-next-1733-ü/ß') },
    ],
  ])('%s', (_name, message, expected) => {
    const event = eventOf(mapped(message));
    const present = Object.entries(expected).filter(([, value]) => value !== undefined);
    expect(event).toMatchObject(Object.fromEntries(present));
    for (const [field, value] of Object.entries(expected)) {
      if (value === undefined) expect(event).not.toHaveProperty(field);
    }
  });

  it.each([['identify'], ['group'], ['alias']])('%s → no event', (type) => {
    expect(mapped({ type, traits: { email: 'a@b.c' } })).toEqual({ kind: 'no-event' });
  });

  it('the endpoint type wins over the message type (/v1/track)', () => {
    expect(eventOf(mapped({ type: 'page', event: 'x' }, { endpointType: 'track' })).event_type).toBe('x');
  });

  it('a batch context is merged under the message context', () => {
    const event = eventOf(
      mapped(
        { type: 'track', event: 'x', context: { ip: '81.2.69.142' } },
        { batchContext: { ip: '10.0.0.1', userAgent: 'Mozilla/5.0 Safari' } },
      ),
    );
    expect(event.context).toEqual({ ip: '81.2.69.142', user_agent: 'Mozilla/5.0 Safari' });
  });
});

describe('mapSegmentMessage: what cannot be mapped, and why', () => {
  it.each<[string, unknown, RegExp]>([
    ['not an object', 'hello', /not a JSON object/],
    ['an unknown type', { type: 'capture', event: 'x' }, /type must be one of/],
    ['no type at all', { event: 'x' }, /type must be one of/],
    ['a track without an event', { type: 'track' }, /no name/],
    ['an event name of 121 characters', { type: 'track', event: 'e'.repeat(121) }, /1-120 printable/],
    [
      'an event name with a control character',
      { type: 'track', event: 'a\u0007b' },
      /without control characters/,
    ],
    ['a page without any path', { type: 'page', properties: { title: 'x' } }, /without a path/],
    ['a page path not starting with /', { type: 'page', properties: { path: 'pricing' } }, /properties.path/],
    ['a page URL that is no URL', { type: 'page', properties: { url: 'not a url' } }, /properties.url/],
    ['a screen without a name', { type: 'screen' }, /without a name/],
    ['neither userId nor anonymousId', { type: 'track', event: 'x', anonymousId: null }, /neither/],
    [
      'a userId over 256 characters',
      { type: 'track', event: 'x', userId: 'u'.repeat(257) },
      /longer than 256/,
    ],
    ['a timestamp that is no date', { type: 'track', event: 'x', timestamp: 'yesterday' }, /ISO-8601/],
    ['a time in the future', { type: 'track', event: 'x', timestamp: '2026-12-01T12:10:00Z' }, /future/],
    ['a time too old', { type: 'track', event: 'x', timestamp: '2026-11-01T12:00:00Z' }, /older than/],
  ])('%s', (_name, message, reason) => {
    const result =
      typeof message === 'object' && message !== null
        ? mapped(message as Record<string, unknown>)
        : mapSegmentMessage(message, OPTIONS);
    expect(result.kind).toBe('unmappable');
    expect(result.kind === 'unmappable' && result.reason).toMatch(reason);
  });
});

describe('segmentTime', () => {
  const at = (message: Record<string, unknown>, sentAt?: string) =>
    new Date(segmentTime(message, sentAt, RECEIVED) as number).toISOString();
  it.each<[string, Record<string, unknown>, string | undefined, string]>([
    [
      'timestamp wins',
      { timestamp: '2026-12-01T10:00:00Z', originalTimestamp: '2026-12-01T09:00:00Z' },
      undefined,
      '2026-12-01T10:00:00.000Z',
    ],
    // the client's clock is 1 h fast: sent at 13:00 by its clock, received at 12:00
    [
      'originalTimestamp corrected by the batch sentAt',
      { originalTimestamp: '2026-12-01T12:50:00Z' },
      '2026-12-01T13:00:00Z',
      '2026-12-01T11:50:00.000Z',
    ],
    [
      'a message sentAt wins over the batch one',
      { originalTimestamp: '2026-12-01T11:59:00Z', sentAt: '2026-12-01T12:00:00Z' },
      '2026-12-01T13:00:00Z',
      '2026-12-01T11:59:00.000Z',
    ],
    [
      'originalTimestamp without sentAt as is',
      { originalTimestamp: '2026-12-01T11:00:00Z' },
      undefined,
      '2026-12-01T11:00:00.000Z',
    ],
    ['nothing: the arrival', {}, undefined, '2026-12-01T12:00:00.000Z'],
  ])('%s', (_name, message, sentAt, expected) => {
    expect(at(message, sentAt)).toBe(expected);
  });
});

describe('segmentEventId', () => {
  it('is the same for the same messageId, fits the native alphabet, and differs per messageId', () => {
    const id = segmentEventId('x'.repeat(500));
    expect(id).toBe(segmentEventId('x'.repeat(500)));
    expect(id).toMatch(/^sg_[A-Za-z0-9_-]{43}$/);
    expect(segmentEventId('a')).not.toBe(segmentEventId('b'));
  });
});

describe('capProps (every protocol)', () => {
  it.each<[string, unknown, { props?: Record<string, unknown>; dropped: number }]>([
    ['nothing', undefined, { dropped: 0 }],
    ['not an object', ['a'], { dropped: 1 }],
    ['scalars kept, sorted', { b: 1, a: 'x', c: true }, { props: { a: 'x', b: 1, c: true }, dropped: 0 }],
    [
      'nested, null, long strings and long keys dropped',
      { a: { n: 1 }, b: null, c: 'y'.repeat(257), ['k'.repeat(65)]: 1, d: [1], e: 2 },
      { props: { e: 2 }, dropped: 5 },
    ],
  ])('%s', (_name, value, expected) => {
    expect(capProps(value)).toEqual(expected);
  });

  it('keeps the first 20 keys in key order and counts the rest', () => {
    const value = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i]),
    );
    const { props, dropped } = capProps(value);
    expect(Object.keys(props!)).toEqual(
      Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}`),
    );
    expect(dropped).toBe(5);
  });
});

describe('foreignPath and withUtmTags', () => {
  it.each<[string, boolean, { path: string; rawPath: string } | undefined]>([
    ['/a/b?x=1#f', false, { path: '/a/b', rawPath: '/a/b?x=1' }],
    ['https://shop.example/a?x=1#/route', false, { path: '/a', rawPath: '/a?x=1' }],
    ['https://shop.example/a#/route', true, { path: '/a#/route', rawPath: '/a' }],
    ['ftp://shop.example/a', false, undefined],
    ['//shop.example/a', false, undefined],
    ['relative', false, undefined],
  ])('%s (fragment kept: %s)', (input, keepFragment, expected) => {
    expect(foreignPath(input, keepFragment)).toEqual(expected);
  });

  it('joins missing tags only', () => {
    expect(withUtmTags('/a?utm_source=x', { utm_source: 'y', utm_medium: 'm' })).toBe(
      '/a?utm_source=x&utm_medium=m',
    );
    expect(withUtmTags(undefined, { utm_campaign: 'c d' })).toBe('/?utm_campaign=c+d');
    expect(withUtmTags('/a', {})).toBe('/a');
  });
});
