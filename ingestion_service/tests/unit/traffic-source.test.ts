import {
  DIRECT_SOURCE,
  parseReferrer,
  sourceOfHost,
  trafficSourceOf,
  utmTagsOfPath,
} from '../../src/services/traffic-source.service';

describe('trafficSourceOf (referrer → stored referrer and source)', () => {
  const SITE_DOMAINS = ['shop.example', 'example.org'];
  it.each([
    ['Google search', 'https://www.google.com/', 'www.google.com', 'Google'],
    ['Google country domain', 'https://www.google.co.uk/search?q=shoes', 'www.google.co.uk/search', 'Google'],
    ['Google .de', 'https://google.de/url?q=x', 'google.de/url', 'Google'],
    ['Bing', 'https://www.bing.com/search?q=analytics&form=QBLH', 'www.bing.com/search', 'Bing'],
    ['DuckDuckGo', 'https://duckduckgo.com/', 'duckduckgo.com', 'DuckDuckGo'],
    ['Twitter short link', 'https://t.co/AbC123xyz', 't.co/AbC123xyz', 'Twitter'],
    ['X', 'https://x.com/someone/status/1', 'x.com/someone/status/1', 'Twitter'],
    ['Facebook mobile', 'https://m.facebook.com/', 'm.facebook.com', 'Facebook'],
    [
      'Facebook link shim',
      'https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example',
      'l.facebook.com/l.php',
      'Facebook',
    ],
    ['LinkedIn', 'https://www.linkedin.com/feed/', 'www.linkedin.com/feed/', 'LinkedIn'],
    [
      'Reddit',
      'https://old.reddit.com/r/node/comments/abc/',
      'old.reddit.com/r/node/comments/abc/',
      'Reddit',
    ],
    ['GitHub', 'https://github.com/owner/repo', 'github.com/owner/repo', 'GitHub'],
    ['Hacker News', 'https://news.ycombinator.com/item?id=123', 'news.ycombinator.com/item', 'Hacker News'],
    [
      'another site',
      'https://www.Blog.Example.net/post/1?ref=x#c',
      'www.blog.example.net/post/1',
      'blog.example.net',
    ],
    ['no scheme', 'news.example.com/a', 'news.example.com/a', 'news.example.com'],
    ['a look-alike of a named host', 'https://notgithub.com/', 'notgithub.com', 'notgithub.com'],
  ])(
    'when the referrer is %s (%s), then it is stored as %s with source %s',
    (_, referrer, stored, source) => {
      expect(trafficSourceOf(referrer, {}, SITE_DOMAINS)).toEqual({ referrer: stored, source });
    },
  );

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['not a URL', 'https://'],
    ['a self-referral', 'https://shop.example/cart?x=1'],
    ['a self-referral with www. and capitals', 'https://WWW.Shop.Example/'],
    ['a self-referral to a second domain', 'http://example.org/a'],
  ])('when the referrer is %s, then the source is Direct / None and no referrer is stored', (_, referrer) => {
    expect(trafficSourceOf(referrer, {}, SITE_DOMAINS)).toEqual({ source: DIRECT_SOURCE });
  });

  it('when utm_source is present, then it wins over the referrer and over Direct / None', () => {
    expect(trafficSourceOf('https://www.google.com/', { utm_source: 'newsletter' }, [])).toEqual({
      referrer: 'www.google.com',
      source: 'newsletter',
    });
    expect(trafficSourceOf(undefined, { utm_source: 'newsletter' }, [])).toEqual({ source: 'newsletter' });
  });

  it('when the site has no domains, then its own host counts as any other referrer', () => {
    expect(trafficSourceOf('https://shop.example/', {}, []).source).toBe('shop.example');
  });
});

describe('utmTagsOfPath', () => {
  it.each([
    ['/a', {}],
    ['/a?x=1', {}],
    [
      '/landing?utm_source=Newsletter&utm_medium=email&utm_campaign=winter%20sale&utm_term=boots&utm_content=hero#top',
      {
        utm_source: 'Newsletter',
        utm_medium: 'email',
        utm_campaign: 'winter sale',
        utm_term: 'boots',
        utm_content: 'hero',
      },
    ],
    ['/a?utm_source=&utm_medium=cpc', { utm_medium: 'cpc' }],
    ['/a#frag?utm_source=ignored', {}],
    ['/a?utm_source=x#utm_medium=ignored', { utm_source: 'x' }],
  ])('when the path is %s, then the tags are %j', (path, tags) => {
    expect(utmTagsOfPath(path)).toEqual(tags);
  });

  it('when a tag is very long, then it is cut to 256 characters', () => {
    expect(utmTagsOfPath(`/a?utm_campaign=${'c'.repeat(1000)}`).utm_campaign).toHaveLength(256);
  });
});

describe('parseReferrer and sourceOfHost', () => {
  it('when the referrer is an IDN, then its host is punycode', () => {
    expect(parseReferrer('https://bücher.example/x')).toEqual({ host: 'xn--bcher-kva.example', path: '/x' });
  });
  it('when a host is unknown, then the source is the host without www.', () => {
    expect(sourceOfHost('www.example.com')).toBe('example.com');
  });
});
