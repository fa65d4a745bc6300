import { errorMeta, hashKey, logger } from '@analytics/common';
import type { SiteKeyRecord, SiteRepository } from '../repositories/site.repository';

/**
 * Re-reads sites changed slightly before the newest change already seen, so a site written by another
 * process with a clock a little behind, or committed late, is never skipped. Re-reading is idempotent.
 */
const CHANGE_OVERLAP_MS = 10_000;

/** How many presented write keys keep their digest in memory (one per site and key in use is plenty). */
const DIGEST_MEMO_MAX_KEYS = 10_000;

/** What ingestion knows of a site besides its key. */
export interface SiteSettings {
  siteId: string;
  /** Normalised host names (see normaliseDomain in common). */
  domains: readonly string[];
  /** IANA zone. */
  timezone: string;
}

/**
 * Ingestion's in-process view of every site's write key, domains and timezone, so the hot path needs no MongoDB round trip:
 * loaded once at start, then refreshed in the background with only what changed. Unknown site ids are
 * answered from memory, so hammering with them never reaches MongoDB. If MongoDB goes away the last view
 * keeps serving.
 */
export class SiteKeyCache {
  /** write key digest → site id */
  private readonly siteByKeyHash = new Map<string, string>();
  /** site id → write key digest (to drop the old digest when a key changes) */
  private readonly keyHashBySite = new Map<string, string>();
  /**
   * presented write key → its digest, for keys that matched a site: hashing every request's key was 2 % of
   * ingestion's CPU. A digest never changes, so a rotated key needs no invalidation (its digest is simply
   * no longer in siteByKeyHash). Unknown keys are never remembered, so random keys cannot fill it.
   */
  private readonly digestByWriteKey = new Map<string, string>();
  /** site id → its domains and zone */
  private readonly settingsBySite = new Map<string, SiteSettings>();
  /** normalised domain → site id */
  private readonly siteByDomain = new Map<string, string>();
  private newestChange: Date | undefined;
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private followUp: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly repository: SiteRepository,
    private readonly refreshIntervalMs: number,
  ) {}

  /** Whether the first load has completed; until then keys cannot be checked. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.keyHashBySite.size;
  }

  /** The site a write key belongs to, or undefined for an unknown key. */
  siteForWriteKey(writeKey: string): string | undefined {
    const remembered = this.digestByWriteKey.get(writeKey);
    if (remembered !== undefined) return this.siteByKeyHash.get(remembered);
    const digest = hashKey(writeKey);
    const siteId = this.siteByKeyHash.get(digest);
    if (siteId !== undefined) {
      if (this.digestByWriteKey.size >= DIGEST_MEMO_MAX_KEYS) this.digestByWriteKey.clear();
      this.digestByWriteKey.set(writeKey, digest);
    }
    return siteId;
  }

  /** A site's domains and timezone, or undefined for an unknown (or deleted) site. */
  settingsOf(siteId: string): SiteSettings | undefined {
    return this.settingsBySite.get(siteId);
  }

  /** The site's IANA zone (site-settings.service.ts reads it through here). */
  timezoneOf(siteId: string): string | undefined {
    return this.settingsBySite.get(siteId)?.timezone;
  }

  /** The site's normalised host names. */
  domainsOf(siteId: string): readonly string[] | undefined {
    return this.settingsBySite.get(siteId)?.domains;
  }

  /** The site that lists this domain (already normalised: lower-case, punycode, no leading `www.`). */
  siteForDomain(domain: string): string | undefined {
    return this.siteByDomain.get(domain);
  }

  /** Loads every site, then keeps refreshing every interval until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    // a tick while a load runs is skipped: the next tick comes soon enough
    this.timer = setInterval(() => {
      if (this.refreshing === undefined) void this.refresh().catch(() => undefined);
    }, this.refreshIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.followUp?.catch(() => undefined);
    await this.refreshing?.catch(() => undefined);
  }

  /**
   * Resolves once a load that started after this call has finished, so a caller sees every site committed
   * before it called. One load runs at a time: a load already in flight may have read before the caller's
   * change, so callers arriving during it share one follow-up load.
   */
  refresh(): Promise<void> {
    if (this.refreshing === undefined) {
      this.refreshing = this.load().finally(() => {
        this.refreshing = undefined;
      });
      return this.refreshing;
    }
    this.followUp ??= this.refreshing
      .catch(() => undefined)
      .then(() => {
        this.followUp = undefined;
        return this.refresh();
      });
    return this.followUp;
  }

  private async load(): Promise<void> {
    const since = this.newestChange && new Date(this.newestChange.getTime() - CHANGE_OVERLAP_MS);
    let records;
    try {
      records = await this.repository.findChangedSince(since);
    } catch (error) {
      if (!this.failing) logger.error('site refresh failed; serving the last known sites', errorMeta(error));
      this.failing = true;
      throw error;
    }
    if (this.failing) logger.info('site refresh recovered');
    this.failing = false;
    // Oldest change first, so a site deleted and created again with the same id ends as its newest state.
    records.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
    for (const record of records) {
      this.forget(record.siteId);
      if (!record.deleted) this.remember(record);
      if (!this.newestChange || record.updatedAt > this.newestChange) this.newestChange = record.updatedAt;
    }
    if (!this.loaded) logger.info('sites loaded', { sites: this.keyHashBySite.size });
    this.loaded = true;
  }

  private remember(record: SiteKeyRecord): void {
    this.keyHashBySite.set(record.siteId, record.writeKeyHash);
    this.siteByKeyHash.set(record.writeKeyHash, record.siteId);
    this.settingsBySite.set(record.siteId, {
      siteId: record.siteId,
      domains: record.domains,
      timezone: record.timezone,
    });
    for (const domain of record.domains) this.siteByDomain.set(domain, record.siteId);
  }

  /** Drops what the view holds for a site, before its new state (or its deletion) is applied. */
  private forget(siteId: string): void {
    const keyHash = this.keyHashBySite.get(siteId);
    if (keyHash !== undefined && this.siteByKeyHash.get(keyHash) === siteId)
      this.siteByKeyHash.delete(keyHash);
    this.keyHashBySite.delete(siteId);
    for (const domain of this.settingsBySite.get(siteId)?.domains ?? []) {
      if (this.siteByDomain.get(domain) === siteId) this.siteByDomain.delete(domain);
    }
    this.settingsBySite.delete(siteId);
  }
}
