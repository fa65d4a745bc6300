import { randomBytes } from 'node:crypto';
import { redisUnavailable } from '@analytics/common';
import type { VisitorSaltRepository } from '../repositories/visitor-salt.repository';

const DAY_MS = 86_400_000;
/** The latest a calendar date ends anywhere: UTC−12 (Etc/GMT+12) ends it 12 hours after UTC does. */
const LATEST_ZONE_LAG_MS = 12 * 3_600_000;
/** Margin for clocks and the 5-minute future tolerance. */
const EXPIRY_MARGIN_MS = 3_600_000;

/**
 * When a date's salt is destroyed: once no event of that date can be accepted any more in any zone —
 * the date's end in UTC−12 plus the accepted age (and a margin of an hour).
 */
export function saltExpiresAt(date: string, maxEventAgeMs: number): number {
  return Date.parse(`${date}T00:00:00Z`) + DAY_MS + LATEST_ZONE_LAG_MS + maxEventAgeMs + EXPIRY_MARGIN_MS;
}

/**
 * One random salt per calendar date, shared by every instance: the first that needs a date's salt creates
 * it in Redis (atomically, SET NX), the others read it; each instance keeps the salts it used in memory
 * until they expire, so only the first event of a date per instance costs a Redis round trip.
 */
export class VisitorSalts {
  private readonly cached = new Map<string, { salt: string; expiresAt: number }>();
  private readonly claiming = new Map<string, Promise<string>>();

  constructor(
    private readonly repository: VisitorSaltRepository,
    private readonly maxEventAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The salts of the given dates; rejects with a 503 AppError when Redis does not answer. */
  async saltsFor(dates: Iterable<string>): Promise<Map<string, string>> {
    const now = this.now();
    const salts = new Map<string, string>();
    const missing: Promise<void>[] = [];
    for (const date of new Set(dates)) {
      const entry = this.cached.get(date);
      if (entry && entry.expiresAt > now) salts.set(date, entry.salt);
      else missing.push(this.claim(date, now).then((salt) => void salts.set(date, salt)));
    }
    if (missing.length > 0) await Promise.all(missing);
    return salts;
  }

  private claim(date: string, now: number): Promise<string> {
    let pending = this.claiming.get(date);
    if (pending) return pending;
    const expiresAt = saltExpiresAt(date, this.maxEventAgeMs);
    pending = this.repository
      .claim(date, randomBytes(32).toString('base64url'), Math.max(1000, expiresAt - now))
      .then((salt) => {
        this.forgetExpired(now);
        this.cached.set(date, { salt, expiresAt });
        return salt;
      })
      .catch((error: unknown) => {
        throw redisUnavailable(error);
      })
      .finally(() => this.claiming.delete(date));
    this.claiming.set(date, pending);
    return pending;
  }

  private forgetExpired(now: number): void {
    for (const [date, entry] of this.cached) if (entry.expiresAt <= now) this.cached.delete(date);
  }
}
