import { ConfigError } from '@analytics/common';
import { loadConfig } from '../../src/config';

describe('RATE_LIMIT_KEYLESS_SITE_PER_SECOND', () => {
  it('when unset, then keyless requests have a budget of 200 events per site per second, beside the site budget', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      ipPerMinute: 600,
      sitePerSecond: 2000,
      keylessSitePerSecond: 200,
    });
  });

  it('when 0, then the keyless budget is off; when negative or not a number, then loading fails naming it', () => {
    expect(loadConfig({ RATE_LIMIT_KEYLESS_SITE_PER_SECOND: '0' }).rateLimits.keylessSitePerSecond).toBe(0);
    expect(loadConfig({ RATE_LIMIT_KEYLESS_SITE_PER_SECOND: '5' }).rateLimits.keylessSitePerSecond).toBe(5);
    for (const value of ['-1', 'many']) {
      expect(() => loadConfig({ RATE_LIMIT_KEYLESS_SITE_PER_SECOND: value })).toThrow(ConfigError);
      expect(() => loadConfig({ RATE_LIMIT_KEYLESS_SITE_PER_SECOND: value })).toThrow(
        /RATE_LIMIT_KEYLESS_SITE_PER_SECOND/,
      );
    }
  });
});
