import type { RequestHandler } from 'express';
import { rateLimit, type Store, type ClientRateLimitInfo } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, redisUnavailable } from '@analytics/common';

function rateLimited(retryAfterMs: number, what: string): AppError {
  return new AppError('rate-limited', `Too many ${what}; retry after the time in Retry-After`, {
    status: 429,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}

/** A Redis error while counting means the queue is unreachable too: answer 503 at once. */
function counterFailure(error: unknown): never {
  if (error instanceof RateLimiterRes) throw error;
  throw redisUnavailable(error);
}

/**
 * express-rate-limit's store, counting with rate-limiter-flexible's atomic INCRBY+TTL script.
 * Not rate-limit-redis: it keeps a rejected script-load promise forever when Redis is down at start,
 * so the limiter would fail every request after Redis came back. ioredis' defineCommand, used here,
 * reloads scripts by itself after a Redis restart. `rejectIfRedisNotReady` makes an outage fail fast.
 */
class RedisCounterStore implements Store {
  readonly localKeys = false;
  private counter!: RateLimiterRedis;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
  ) {}

  init(options: { windowMs: number }): void {
    this.counter = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: this.prefix,
      points: Number.MAX_SAFE_INTEGER,
      duration: Math.ceil(options.windowMs / 1000),
      rejectIfRedisNotReady: true,
    });
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const result = await this.counter.consume(key, 1).catch(counterFailure);
    return { totalHits: result.consumedPoints, resetTime: new Date(Date.now() + result.msBeforeNext) };
  }

  async decrement(key: string): Promise<void> {
    await this.counter.reward(key, 1).catch(counterFailure);
  }

  async resetKey(key: string): Promise<void> {
    await this.counter.delete(key).catch(counterFailure);
  }
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/** Requests per client IP per minute (IPv6 grouped by /56 subnet); 0 turns it off. */
export function ipRateLimit(redis: Redis, redisPrefix: string, perMinute: number): RequestHandler {
  if (perMinute === 0) return passThrough;
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    store: new RedisCounterStore(redis, `${redisPrefix}:rl:ip`),
    handler: (req, _res, next) => {
      const info = (req as typeof req & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const reset = info?.resetTime?.getTime() ?? Date.now() + 60_000;
      next(rateLimited(reset - Date.now(), 'requests from this address'));
    },
  });
}

export interface SiteRateLimiter {
  /** Counts `events` against the site's per-second budget; throws a 429 or 503 AppError when it cannot. */
  consume(siteId: string, events: number): Promise<void>;
}

/** Events per site per second, counted by event (a batch of 100 uses 100); 0 turns it off. */
export function createSiteRateLimiter(redis: Redis, redisPrefix: string, perSecond: number): SiteRateLimiter {
  if (perSecond === 0) return { consume: async () => undefined };
  const counter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${redisPrefix}:rl:site`,
    points: perSecond,
    duration: 1,
    rejectIfRedisNotReady: true,
  });
  return {
    async consume(siteId, events) {
      try {
        await counter.consume(siteId, events);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw rateLimited(error.msBeforeNext, 'events for this site');
        throw redisUnavailable(error);
      }
    },
  };
}
