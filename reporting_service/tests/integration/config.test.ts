import { ConfigError } from '@analytics/common';
import { loadConfig } from '../../src/config';

describe('reporting configuration', () => {
  it('when NODE_ENV=production and ADMIN_API_KEY is unset, then loading fails naming ADMIN_API_KEY', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_API_KEY/);
  });

  it('when ADMIN_API_KEY is empty outside production, then administration is open (key undefined)', () => {
    expect(loadConfig({ ADMIN_API_KEY: '' }).adminApiKey).toBeUndefined();
  });

  it('when nothing is set, then the contract defaults apply', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.mongodbUri).toBe('mongodb://127.0.0.1:27017/analytics');
    expect(config.logLevel).toBe('info');
  });
});
