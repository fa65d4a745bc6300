import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const WRITE_KEY_PREFIX = 'wk_';
export const READ_KEY_PREFIX = 'rk_';

/** 32 random bytes from the OS CSPRNG, base64url: 256 bits, so a plain SHA-256 is a safe stored form. */
export function generateKey(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/**
 * Keys are stored only as SHA-256 digests: a database leak reveals no key. The keys are random,
 * not passwords, so a slow salted hash would add cost without adding safety.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented key with a stored digest. */
export function keyMatchesHash(presentedKey: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(presentedKey), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export interface SiteKeys {
  writeKey: string;
  readKey: string;
  writeKeyHash: string;
  readKeyHash: string;
}

/** A new pair of site keys with the digests that are stored in their place. */
export function newSiteKeys(): SiteKeys {
  const writeKey = generateKey(WRITE_KEY_PREFIX);
  const readKey = generateKey(READ_KEY_PREFIX);
  return { writeKey, readKey, writeKeyHash: hashKey(writeKey), readKeyHash: hashKey(readKey) };
}
