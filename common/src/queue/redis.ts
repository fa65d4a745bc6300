import { Redis, type RedisOptions } from 'ioredis';
import { logger, errorMeta } from '../logger';

export type RedisRole = 'producer' | 'worker';

export interface RedisConnectionOptions {
  /** Bound on any single command, so a frozen Redis turns into an error instead of a hang. */
  commandTimeoutMs?: number;
  connectionName?: string;
}

/**
 * Redis connections as BullMQ recommends them:
 * - producer: no offline queue, so an outage fails fast (a 503) instead of piling up requests;
 * - worker: `maxRetriesPerRequest: null`, so blocking commands wait through reconnects.
 */
export function createRedisConnection(
  url: string,
  role: RedisRole,
  options: RedisConnectionOptions = {},
): Redis {
  const base: RedisOptions = {
    connectionName: options.connectionName,
    lazyConnect: false,
    // Reconnect forever, backing off up to 2 s, so the service heals by itself when Redis returns.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  };
  const roleOptions: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeoutMs }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  const redis = new Redis(url, { ...base, ...roleOptions });

  // Log each outage once, not once per reconnect attempt.
  let healthy = true;
  redis.on('error', (error) => {
    if (healthy) logger.error('redis connection error', { role, ...errorMeta(error) });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis connection restored', { role });
    healthy = true;
  });
  return redis;
}

/** Calls `callback` whenever the connection is ready again after losing it (not on the first connect). */
export function onRedisReconnect(redis: Redis, callback: () => void): void {
  let lost = false;
  redis.on('close', () => {
    lost = true;
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    callback();
  });
}

export async function pingRedis(redis: Redis): Promise<void> {
  const reply = await redis.ping();
  if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
}

/** QUIT politely, but never wait more than a second on a Redis that does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  } catch {
    // Already closed or unreachable: disconnect below is all that is left to do.
  }
  redis.disconnect();
}

/**
 * Waits (bounded) for the first connection, so a service that starts together with Redis does not answer
 * its first requests with 503. Resolves false when Redis is still unreachable: the caller starts anyway
 * and the connection keeps retrying.
 */
export function waitForRedisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
