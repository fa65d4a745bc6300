import { isIPv4 } from 'node:net';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Redis } from 'ioredis';

/** One request to count: its client address key and its site, with the number of events it carries. */
export interface RateLimitClaim {
  /** A keyed hash of the client's address group (addressRateLimitKey), never the address itself. */
  ipKey: string;
  siteId: string;
  events: number;
  /**
   * A request that came without a write key (Plausible's and Umami's endpoints): it draws on the site's
   * own, smaller keyless budget instead of the site's budget.
   */
  keyless?: boolean;
}

export type RateLimitVerdict =
  { allowed: true; ip?: IpWindow } | { allowed: false; limit: 'ip' | 'site'; retryAfterMs: number };

/** Where a client address stands in its current minute (for the draft-7 `RateLimit` headers). */
export interface IpWindow {
  limit: number;
  used: number;
  resetMs: number;
}

export interface RateLimitSettings {
  /** Requests per client address per minute; 0 turns the limit off. */
  ipPerMinute: number;
  /** Events per site per second; 0 turns the limit off. */
  sitePerSecond: number;
  /** Events per site per second sent without a write key (a budget of their own); 0 turns it off. */
  keylessSitePerSecond?: number;
  redisPrefix: string;
}

const IP_WINDOW_MS = 60_000;
const SITE_WINDOW_MS = 1000;

/**
 * Fixed-window counters for every claim of a group commit in one script call, so a flush of many
 * requests costs one Redis round trip for both limits (rate-limiter-flexible and express-rate-limit
 * would cost two per request; they were 28 % of a request's CPU). Per claim, in order: count the address
 * (a request); if that is within its limit, count the site (by events). Returns per claim a verdict
 * code (0 allowed, 1 address limited, 2 site limited), the address count, the milliseconds left in the
 * address window, and in the site window when the site decided.
 *
 * KEYS: the distinct counter keys; ARGV: ipLimit, ipWindowMs, siteWindowMs, then per claim the index
 * of its address key (0 = not counted), of its site key (0 = not counted), its events, and the limit of
 * its site key (the site's budget, or the site's keyless budget).
 */
const COUNT_CLAIMS_LUA = `
local ipLimit, ipWindow = tonumber(ARGV[1]), tonumber(ARGV[2])
local siteWindow = tonumber(ARGV[3])
local out = {}
local function count(key, by, window)
  local n = redis.call('INCRBY', key, by)
  if n == by then redis.call('PEXPIRE', key, window) end
  return n
end
for i = 4, #ARGV, 4 do
  local ipIdx, siteIdx, events = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local siteLimit = tonumber(ARGV[i + 3])
  local verdict, ipUsed, ipTtl, siteTtl = 0, 0, 0, 0
  if ipIdx > 0 then
    ipUsed = count(KEYS[ipIdx], 1, ipWindow)
    ipTtl = redis.call('PTTL', KEYS[ipIdx])
    if ipUsed > ipLimit then verdict = 1 end
  end
  if verdict == 0 and siteIdx > 0 then
    if count(KEYS[siteIdx], events, siteWindow) > siteLimit then
      verdict = 2
      siteTtl = redis.call('PTTL', KEYS[siteIdx])
    end
  end
  out[#out + 1] = verdict
  out[#out + 1] = ipUsed
  out[#out + 1] = ipTtl
  out[#out + 1] = siteTtl
end
return out
`;

type CountClaims = (keys: number, ...args: (string | number)[]) => Promise<number[]>;

/** The per-address and per-site limits of ingestion, counted in Redis so they hold across instances. */
export class RateLimits {
  private readonly countClaims: CountClaims | undefined;

  constructor(
    redis: Redis,
    private readonly settings: RateLimitSettings,
  ) {
    if (settings.ipPerMinute === 0 && settings.sitePerSecond === 0 && !settings.keylessSitePerSecond) return;
    // defineCommand sends EVALSHA and falls back to EVAL by itself, also after a Redis restart.
    redis.defineCommand('analyticsCountClaims', { lua: COUNT_CLAIMS_LUA });
    const command = (redis as unknown as Record<string, CountClaims>).analyticsCountClaims!;
    this.countClaims = command.bind(redis);
  }

  /** One verdict per claim, in order; rejects when Redis does not answer (the caller answers 503). */
  async check(claims: readonly RateLimitClaim[]): Promise<RateLimitVerdict[]> {
    if (!this.countClaims) return claims.map(() => ({ allowed: true }));
    const { ipPerMinute, sitePerSecond, redisPrefix } = this.settings;
    const keylessSitePerSecond = this.settings.keylessSitePerSecond ?? 0;
    const keys: string[] = [];
    const indexOf = new Map<string, number>();
    const keyIndex = (key: string): number => {
      let index = indexOf.get(key);
      if (index === undefined) {
        index = keys.push(key);
        indexOf.set(key, index);
      }
      return index;
    };
    const perClaim: number[] = [];
    for (const claim of claims) {
      const siteLimit = claim.keyless ? keylessSitePerSecond : sitePerSecond;
      const siteKey = claim.keyless
        ? `${redisPrefix}:rl:keyless:${claim.siteId}`
        : `${redisPrefix}:rl:site:${claim.siteId}`;
      perClaim.push(
        ipPerMinute > 0 ? keyIndex(`${redisPrefix}:rl:ip:${claim.ipKey}`) : 0,
        siteLimit > 0 ? keyIndex(siteKey) : 0,
        claim.events,
        siteLimit,
      );
    }
    const reply = await this.countClaims(
      keys.length,
      ...keys,
      ipPerMinute,
      IP_WINDOW_MS,
      SITE_WINDOW_MS,
      ...perClaim,
    );
    return claims.map((_, i) => {
      const [verdict, ipUsed, ipTtl, siteTtl] = reply.slice(4 * i, 4 * i + 4).map((n) => Math.max(0, n));
      const ip = ipPerMinute > 0 ? { limit: ipPerMinute, used: ipUsed!, resetMs: ipTtl! } : undefined;
      if (verdict === 0) return { allowed: true, ip };
      if (verdict === 1) return { allowed: false, limit: 'ip', retryAfterMs: ipTtl! };
      return { allowed: false, limit: 'site', retryAfterMs: siteTtl! };
    });
  }
}

/**
 * The client address as the per-address limit groups it: IPv4 as is (also when it arrives IPv4-mapped,
 * as on a server listening on `::`), IPv6 by its /56 network (express-rate-limit's grouping, so one host
 * cannot dodge the limit by rotating addresses). The fast paths skip parsing the common case. The group
 * is hashed with the day's salt before it becomes a Redis key (addressRateLimitKey).
 */
export function clientAddressGroup(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  if (isIPv4(ip)) return ip;
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7);
  return ipKeyGenerator(ip);
}
