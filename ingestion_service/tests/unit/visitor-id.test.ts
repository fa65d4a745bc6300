import { saltExpiresAt } from '../../src/services/visitor-salt.service';
import {
  addressRateLimitKey,
  anonymousVisitor,
  calendarDate,
  canonicalIp,
} from '../../src/services/visitor-id.service';
import { identifiedVisitor } from '@analytics/common';

describe('calendarDate (the event date in the site zone)', () => {
  it.each([
    ['2026-12-06T03:30:00Z', 'Etc/UTC', '2026-12-06'],
    ['2026-12-06T03:30:00Z', 'America/New_York', '2026-12-05'],
    ['2026-12-06T05:00:00Z', 'America/New_York', '2026-12-06'],
    ['2026-12-05T20:00:00Z', 'Asia/Kathmandu', '2026-12-06'],
    ['2026-03-08T06:59:59Z', 'America/New_York', '2026-03-08'],
    ['2026-12-06T03:30:00Z', 'Not/AZone', '2026-12-06'],
  ])('when the instant is %s in %s, then the date is %s', (at, zone, date) => {
    expect(calendarDate(new Date(at), zone)).toBe(date);
  });
});

describe('visitor ids', () => {
  const salt = 'salt-of-one-day';
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0';
  it('when site, IP and agent are the same, then the anonymous id is the same; any change gives another', () => {
    const id = anonymousVisitor(salt, 'shop', '203.0.113.9', ua);
    expect(id).toMatch(/^a:[A-Za-z0-9_-]{22}$/);
    expect(anonymousVisitor(salt, 'shop', '203.0.113.9', ua)).toBe(id);
    expect(anonymousVisitor(salt, 'shop', '::ffff:203.0.113.9', ua)).toBe(id);
    expect(anonymousVisitor(salt, 'shop', '203.0.113.10', ua)).not.toBe(id);
    expect(anonymousVisitor(salt, 'blog', '203.0.113.9', ua)).not.toBe(id);
    expect(anonymousVisitor(salt, 'shop', '203.0.113.9', `${ua} x`)).not.toBe(id);
    expect(anonymousVisitor('another-day', 'shop', '203.0.113.9', ua)).not.toBe(id);
    expect(id).not.toContain('203.0.113.9');
  });
  it('when a user id is given, then the id is in the u: namespace and never an a: id', () => {
    expect(identifiedVisitor('a:x')).toBe('u:a:x');
  });
  it('when an IPv6 address is spelled differently, then it is one address', () => {
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(canonicalIp('::FFFF:192.0.2.1')).toBe('192.0.2.1');
  });
  it('when the rate limit keys an address, then the key is a hash that changes with the salt', () => {
    const key = addressRateLimitKey(salt, '203.0.113.9');
    expect(key).not.toContain('203');
    expect(addressRateLimitKey('other', '203.0.113.9')).not.toBe(key);
  });
});

describe('saltExpiresAt', () => {
  it('when the accepted age is 7 days, then a date salt lives until its end in UTC-12 plus 7 days and an hour', () => {
    const expected = Date.parse('2026-12-07T12:00:00Z') + 7 * 86_400_000 + 3_600_000;
    expect(saltExpiresAt('2026-12-06', 7 * 86_400_000)).toBe(expected);
  });
});
