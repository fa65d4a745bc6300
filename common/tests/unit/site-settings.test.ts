import { isKnownTimeZone, normaliseDomain } from '../../src/sites/site-settings';

describe('normaliseDomain', () => {
  it.each([
    ['WWW.Example.COM', 'example.com'],
    ['example.com', 'example.com'],
    ['  shop.Example.org.  ', 'shop.example.org'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['www.bücher.de', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['ÉCOLE.fr', 'xn--cole-9oa.fr'],
    ['www.com', 'www.com'],
    ['www.www.example.com', 'www.example.com'],
    ['localhost', 'localhost'],
    ['192.168.0.1', '192.168.0.1'],
    ['a-b.example', 'a-b.example'],
  ])('when given %j, then it stores %j', (input, stored) => {
    expect(normaliseDomain(input)).toBe(stored);
  });

  it.each([
    '',
    '   ',
    'https://example.com',
    'example.com/blog',
    'example.com:8080',
    'user@example.com',
    'exa mple.com',
    'a..example',
    '.example.com',
    '-a.example',
    'a-.example',
    '*.example.com',
    'exa_mple.com',
    'example.com?x=1',
    'example.com#top',
    '[::1]',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(127)}example`,
  ])('when given %j, then it is not a host name', (input) => {
    expect(normaliseDomain(input)).toBeUndefined();
  });
});

describe('isKnownTimeZone', () => {
  it.each([
    'Etc/UTC',
    'UTC',
    'Europe/Berlin',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'America/New_York',
    'Asia/Calcutta',
    'Etc/GMT+5',
  ])('when given %s, then it is a zone', (name) => {
    expect(isKnownTimeZone(name)).toBe(true);
  });

  it.each([
    '',
    'Mars/Olympus_Mons',
    'Europe/Atlantis',
    '+05:30',
    'GMT+5:30',
    'Europe/Berlin ',
    '../etc/passwd',
  ])('when given %j, then it is not a zone', (name) => {
    expect(isKnownTimeZone(name)).toBe(false);
  });
});
