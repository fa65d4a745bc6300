import { mapPlausibleEvent, plausibleDomains } from '../../src/mappings/plausible.mapping';

describe('mapPlausibleEvent', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'the script: one-letter names, pageview → page_view',
      { n: 'pageview', u: 'https://shop.example/pricing?utm_source=x#a', d: 'shop.example', r: null, v: 36 },
      { event_type: 'page_view', path: '/pricing', rawPath: '/pricing?utm_source=x' },
    ],
    [
      'the API: long names',
      {
        name: 'Signup',
        url: 'https://shop.example/join',
        domain: 'shop.example',
        referrer: 'https://github.com/x',
        props: { plan: 'pro' },
      },
      { event_type: 'Signup', path: '/join', referrer: 'https://github.com/x', props: { plan: 'pro' } },
    ],
    [
      'h: hash routing keeps the fragment',
      { n: 'pageview', u: 'https://shop.example/app#/settings', d: 'shop.example', h: 1 },
      { path: '/app#/settings' },
    ],
    [
      'legacy m as a JSON string, p as an object (p wins a shared key)',
      { n: 'Buy', u: 'https://shop.example/', d: 'shop.example', m: '{"a":"1","b":"m"}', p: { b: 'p' } },
      { props: { a: '1', b: 'p' } },
    ],
    [
      'p as a JSON string (older scripts)',
      { n: 'Buy', u: 'https://shop.example/', d: 'shop.example', p: '{"size":"L"}' },
      { props: { size: 'L' } },
    ],
    [
      'an empty referrer is none',
      { n: 'pageview', u: 'https://shop.example/', d: 'shop.example', r: '' },
      { referrer: undefined },
    ],
  ])('%s', (_name, body, expected) => {
    const mapped = mapPlausibleEvent(body);
    if (mapped.kind !== 'event') throw new Error(JSON.stringify(mapped));
    const present = Object.entries(expected).filter(([, value]) => value !== undefined);
    expect(mapped.event).toMatchObject(Object.fromEntries(present));
    for (const [field, value] of Object.entries(expected)) {
      if (value === undefined) expect(mapped.event).not.toHaveProperty(field);
    }
  });

  it('engagement events are recognised (accepted, never an event)', () => {
    expect(
      mapPlausibleEvent({ n: 'engagement', u: 'https://shop.example/', d: 'shop.example', sd: 40, e: 3000 }),
    ).toEqual({ kind: 'engagement', domains: ['shop.example'] });
  });

  it('props beyond 20 or not scalar are dropped and counted', () => {
    const p = Object.fromEntries(Array.from({ length: 22 }, (_, i) => [`k${i + 10}`, i]));
    const mapped = mapPlausibleEvent({ n: 'x', u: 'https://a.example/', d: 'a.example', p: { ...p, o: {} } });
    expect(mapped.kind === 'event' && [Object.keys(mapped.event.props!).length, mapped.propsDropped]).toEqual(
      [20, 3],
    );
  });

  it.each<[string, unknown, string[]]>([
    ['not an object', 'x', ['body']],
    ['nothing', {}, ['domain', 'name', 'url']],
    ['a url that is no URL', { n: 'pageview', u: 'nope', d: 'a.example' }, ['url']],
    [
      'a domain that is a URL',
      { n: 'pageview', u: 'https://a.example/', d: 'https://a.example' },
      ['domain'],
    ],
    ['a name over 120 characters', { n: 'n'.repeat(121), u: 'https://a.example/', d: 'a.example' }, ['name']],
  ])('invalid: %s → 400 naming %j', (_name, body, fields) => {
    const mapped = mapPlausibleEvent(body);
    expect(mapped.kind).toBe('invalid');
    expect(mapped.kind === 'invalid' && mapped.details.map((d) => d.field)).toEqual(fields);
  });
});

describe('plausibleDomains', () => {
  it.each<[unknown, string[]]>([
    ['shop.example', ['shop.example']],
    ['WWW.Shop.Example, blog.example ,', ['shop.example', 'blog.example']],
    ['bücher.de', ['xn--bcher-kva.de']],
    [42, []],
  ])('%j → %j', (value, expected) => {
    expect(plausibleDomains(value)).toEqual(expected);
  });
});
