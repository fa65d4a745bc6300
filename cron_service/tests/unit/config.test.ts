import { ConfigError } from '@analytics/common';
import { cronQueueName, loadConfig } from '../../src/config';

describe('cron configuration', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3002);
    expect(config.retention).toEqual({ days: 30, intervalMs: 3_600_000, batchSize: 1000, batchPauseMs: 100 });
    expect(config.heartbeat).toEqual({ intervalMs: 60_000 });
    expect(config.jobHistoryDays).toBe(30);
    expect(cronQueueName(config)).toBe('analytics-events-cron');
  });

  it('when RETENTION_DAYS is 7 (within ingestion accepted age plus a day), then loading fails naming it', () => {
    expect(() => loadConfig({ RETENTION_DAYS: '7' })).toThrow(ConfigError);
    expect(() => loadConfig({ RETENTION_DAYS: '7' })).toThrow(/RETENTION_DAYS must be at least 8/);
    expect(loadConfig({ RETENTION_DAYS: '8' }).retention.days).toBe(8);
  });

  it.each([
    ['RETENTION_INTERVAL_MS', '999'],
    ['HEARTBEAT_INTERVAL_MS', '0'],
    ['RETENTION_BATCH_SIZE', '0'],
    ['RETENTION_BATCH_PAUSE_MS', '-1'],
    ['JOB_HISTORY_DAYS', 'x'],
  ])('when %s is %s, then loading fails naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});

describe('REDIS_PREFIX', () => {
  it.each(['analytics', '{analytics}', '{shop.eu-1}'])('when it is %s, then it is taken as is', (prefix) => {
    expect(loadConfig({ REDIS_PREFIX: prefix }).redis.prefix).toBe(prefix);
  });

  it.each(['{analytics', 'analytics}', '{a}b', '{}', 'a{b}', 'a b'])(
    'when it is %s, then loading fails naming it and the hash-tag form',
    (prefix) => {
      expect(() => loadConfig({ REDIS_PREFIX: prefix })).toThrow(/REDIS_PREFIX must be .*hash tag/);
    },
  );
});
