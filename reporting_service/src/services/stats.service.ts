import type mongoose from 'mongoose';
import { getSiteStats, type SiteStats } from '../queries/get-site-stats.query';
import type { SiteRepository } from '../repositories/site.repository';
import { siteNotFoundError } from './site.service';
import { resolveStatsWindow, type StatsWindow } from './stats-window.service';
import type { StatsQuery } from '../validations/stats.validation';

export type StatsAnswer = { site_id: string } & StatsWindow['label'] & SiteStats;

export interface StatsService {
  /** /stats for a validated query: the window resolved at `now`, answered from the rollups. */
  getStats(query: StatsQuery): Promise<StatsAnswer>;
}

export function createStatsService(
  sites: SiteRepository,
  mongo: mongoose.Connection,
  now: () => Date = () => new Date(),
): StatsService {
  return {
    async getStats(query) {
      const site = await sites.findById(query.site_id);
      if (!site) throw siteNotFoundError(query.site_id);
      const window = resolveStatsWindow(query, now());
      const stats = await getSiteStats(mongo, site.site_id, window.period, window.buckets);
      return { site_id: site.site_id, ...window.label, ...stats };
    },
  };
}
