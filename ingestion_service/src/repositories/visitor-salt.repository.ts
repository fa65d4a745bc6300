import type { Redis } from 'ioredis';

/**
 * Sets the salt only if the date has none yet (SET NX with an expiry) and answers the salt that holds,
 * this caller's or an earlier one's, in one atomic call: every instance gets the same salt for a date.
 */
const CLAIM_SALT_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return ARGV[1] end
return redis.call('GET', KEYS[1])
`;

type ClaimSalt = (key: string, candidate: string, ttlMs: number) => Promise<string | null>;

/** The daily visitor salts in Redis: `<prefix>:visitor-salt:<YYYY-MM-DD>`, expiring on their own. */
export class VisitorSaltRepository {
  private readonly claimSalt: ClaimSalt;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('analyticsClaimVisitorSalt', { numberOfKeys: 1, lua: CLAIM_SALT_LUA });
    const command = (redis as unknown as Record<string, ClaimSalt>).analyticsClaimVisitorSalt!;
    this.claimSalt = command.bind(redis);
  }

  keyOf(date: string): string {
    return `${this.prefix}:visitor-salt:${date}`;
  }

  /** The date's salt: `candidate` if this call created it, else the one already there. */
  async claim(date: string, candidate: string, ttlMs: number): Promise<string> {
    const salt = await this.claimSalt(this.keyOf(date), candidate, ttlMs);
    if (salt === null) throw new Error('the visitor salt expired while it was being read');
    return salt;
  }
}
