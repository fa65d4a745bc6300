import { randomBytes } from 'node:crypto';
import { newSiteKeys } from '@analytics/common';
import type { SiteRepository } from '../repositories/site.repository';
import type { CreateSiteInput } from '../validations/site.validation';

export interface CreatedSite {
  site_id: string;
  name: string;
  write_key: string;
  read_key: string;
  created_at: string;
}

/** `site-` and 12 random base-36 characters: unguessable enough to list, short enough to type. */
function generateSiteId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return `site-${[...randomBytes(12)].map((byte) => alphabet[byte % 36]).join('')}`;
}

/** Creates a site; the keys are returned this once and stored only as digests. */
export async function createSite(repository: SiteRepository, input: CreateSiteInput): Promise<CreatedSite> {
  const keys = newSiteKeys();
  const now = new Date();
  const siteId = input.site_id ?? generateSiteId();
  await repository.insert({
    site_id: siteId,
    name: input.name,
    write_key_hash: keys.writeKeyHash,
    read_key_hash: keys.readKeyHash,
    created_at: now,
    updated_at: now,
  });
  return {
    site_id: siteId,
    name: input.name,
    write_key: keys.writeKey,
    read_key: keys.readKey,
    created_at: now.toISOString(),
  };
}
