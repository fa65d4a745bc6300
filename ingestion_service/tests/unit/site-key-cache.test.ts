import { hashKey } from '@analytics/common';
import type { SiteKeyRecord, SiteRepository } from '../../src/repositories/site.repository';
import { SiteKeyCache } from '../../src/services/site-key-cache.service';

/**
 * A site table in memory whose reads can be held open, to place a write between a load's read and its
 * end. (The integration suites cover the real repository; this is about SiteKeyCache's own ordering.)
 */
class HeldSiteTable implements SiteRepository {
  readonly sites: SiteKeyRecord[] = [];
  reads = 0;
  private held: Array<() => void> | undefined;

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const resume of waiting) resume();
  }

  async findChangedSince(): Promise<SiteKeyRecord[]> {
    this.reads += 1;
    const snapshot = [...this.sites];
    if (this.held) await new Promise<void>((resume) => this.held?.push(resume));
    return snapshot;
  }
}

const record = (siteId: string, writeKey: string, overrides: Partial<SiteKeyRecord> = {}): SiteKeyRecord => ({
  siteId,
  writeKeyHash: hashKey(writeKey),
  updatedAt: new Date(),
  domains: [],
  timezone: 'Etc/UTC',
  deleted: false,
  ...overrides,
});

describe('SiteKeyCache.refresh', () => {
  it('when called while a load that read before a new site is in flight, then it resolves only after a later load', async () => {
    const table = new HeldSiteTable();
    const cache = new SiteKeyCache(table, 60_000);
    table.hold();
    const inFlight = cache.refresh();
    table.sites.push(record('site-a', 'key-a'));

    const callers = [cache.refresh(), cache.refresh()];
    table.release();
    await inFlight;
    expect(cache.siteForWriteKey('key-a')).toBeUndefined();
    await Promise.all(callers);

    expect(cache.siteForWriteKey('key-a')).toBe('site-a');
    expect(table.reads).toBe(2);
  });

  it('when a load fails, then a caller waiting behind it still gets its own load', async () => {
    const table = new HeldSiteTable();
    const cache = new SiteKeyCache(table, 60_000);
    const failingOnce = jest.spyOn(table, 'findChangedSince').mockRejectedValueOnce(new Error('mongo down'));
    const failed = cache.refresh();
    table.sites.push(record('site-b', 'key-b'));
    const waiting = cache.refresh();

    await expect(failed).rejects.toThrow('mongo down');
    await waiting;
    expect(cache.siteForWriteKey('key-b')).toBe('site-b');
    expect(failingOnce).toHaveBeenCalledTimes(2);
  });
});

describe('SiteKeyCache site settings', () => {
  it('when a site lists domains and a zone, then both are known by site_id and the site by each domain', async () => {
    const table = new HeldSiteTable();
    table.sites.push(
      record('shop', 'key-shop', { domains: ['shop.example', 'xn--bcher-kva.de'], timezone: 'Asia/Kolkata' }),
    );
    const cache = new SiteKeyCache(table, 60_000);
    await cache.refresh();

    expect(cache.settingsOf('shop')).toEqual({
      siteId: 'shop',
      domains: ['shop.example', 'xn--bcher-kva.de'],
      timezone: 'Asia/Kolkata',
    });
    expect(cache.siteForDomain('xn--bcher-kva.de')).toBe('shop');
    expect(cache.siteForDomain('other.example')).toBeUndefined();
  });

  it('when a site changes its domains, then the dropped domain no longer finds it and the new one does', async () => {
    const table = new HeldSiteTable();
    table.sites.push(record('blog', 'key-blog', { domains: ['old.example'] }));
    const cache = new SiteKeyCache(table, 60_000);
    await cache.refresh();
    table.sites.push(
      record('blog', 'key-blog', { domains: ['new.example'], updatedAt: new Date(Date.now() + 1000) }),
    );
    await cache.refresh();

    expect(cache.siteForDomain('old.example')).toBeUndefined();
    expect(cache.siteForDomain('new.example')).toBe('blog');
    expect(cache.siteForWriteKey('key-blog')).toBe('blog');
  });

  it('when a site is marked deleted, then its key, settings and domains are forgotten', async () => {
    const table = new HeldSiteTable();
    table.sites.push(record('gone', 'key-gone', { domains: ['gone.example'] }));
    const cache = new SiteKeyCache(table, 60_000);
    await cache.refresh();
    expect(cache.siteForWriteKey('key-gone')).toBe('gone');
    table.sites.push(
      record('gone', 'key-gone', {
        deleted: true,
        domains: ['gone.example'],
        updatedAt: new Date(Date.now() + 1000),
      }),
    );
    await cache.refresh();

    expect(cache.siteForWriteKey('key-gone')).toBeUndefined();
    expect(cache.settingsOf('gone')).toBeUndefined();
    expect(cache.siteForDomain('gone.example')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
