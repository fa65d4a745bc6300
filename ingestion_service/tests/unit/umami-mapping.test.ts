import { mapUmamiPayload } from '../../src/mappings/umami.mapping';

const SITE = 'shop';

describe('mapUmamiPayload', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'no name → a page view; an absolute URL → its path',
      { url: 'https://shop.example/pricing?utm_medium=cpc', hostname: 'shop.example', referrer: '' },
      { event_type: 'page_view', path: '/pricing', rawPath: '/pricing?utm_medium=cpc' },
    ],
    ['a path as url', { url: '/docs/intro?x=1' }, { event_type: 'page_view', path: '/docs/intro' }],
    [
      'a name → the event type, data → props',
      { url: '/cart', name: 'checkout', data: { total: 12.5, coupon: 'X' } },
      { event_type: 'checkout', path: '/cart', props: { coupon: 'X', total: 12.5 } },
    ],
    [
      'a named event without url (the node client)',
      { name: 'signup' },
      { event_type: 'signup', path: undefined },
    ],
    [
      'a referrer',
      { url: '/', referrer: 'https://www.google.com/' },
      { referrer: 'https://www.google.com/' },
    ],
  ])('%s', (_name, payload, expected) => {
    const mapped = mapUmamiPayload({ type: 'event', payload: { website: SITE, ...payload } });
    if (mapped.kind !== 'event') throw new Error(JSON.stringify(mapped));
    expect(mapped.siteId).toBe(SITE);
    const present = Object.entries(expected).filter(([, value]) => value !== undefined);
    expect(mapped.event).toMatchObject(Object.fromEntries(present));
    for (const [field, value] of Object.entries(expected)) {
      if (value === undefined) expect(mapped.event).not.toHaveProperty(field);
    }
  });

  it("Umami's persistent id and vid leave no trace", () => {
    const mapped = mapUmamiPayload({
      type: 'event',
      payload: { website: SITE, url: '/', id: 'user-7', vid: 'v-1', screen: '1920x1080', language: 'de' },
    });
    expect(mapped.kind === 'event' && mapped.event).toEqual({
      event_type: 'page_view',
      path: '/',
      rawPath: '/',
    });
  });

  it('the hostname is normalised for the domain check', () => {
    const mapped = mapUmamiPayload({
      type: 'event',
      payload: { website: SITE, url: '/', hostname: 'WWW.Shop.Example' },
    });
    expect(mapped.kind === 'event' && mapped.hostname).toBe('shop.example');
  });

  it('identify records no event', () => {
    expect(mapUmamiPayload({ type: 'identify', payload: { website: SITE, data: { plan: 'pro' } } })).toEqual({
      kind: 'identify',
      siteId: SITE,
      hostname: undefined,
    });
  });

  it.each<[string, unknown, string[]]>([
    ['not an object', [], ['body']],
    ['an unknown type', { type: 'click', payload: { website: SITE, url: '/' } }, ['type']],
    ['no payload', { type: 'event' }, ['payload']],
    ['no website', { type: 'event', payload: { url: '/' } }, ['payload.website']],
    ['a page view without url', { type: 'event', payload: { website: SITE } }, ['payload.url']],
    ['a url that is neither', { type: 'event', payload: { website: SITE, url: 'x' } }, ['payload.url']],
    [
      'a hostname that is no host',
      { type: 'event', payload: { website: SITE, url: '/', hostname: 'a b' } },
      ['payload.hostname'],
    ],
  ])('invalid: %s → 400 naming %j', (_name, body, fields) => {
    const mapped = mapUmamiPayload(body);
    expect(mapped.kind).toBe('invalid');
    expect(mapped.kind === 'invalid' && mapped.details.map((d) => d.field)).toEqual(fields);
  });
});
