import type mongoose from 'mongoose';
import { logger } from '@analytics/common';
import type { CronConfig } from '../config';
import { createSiteDataRepository } from '../repositories/site-data.repository';
import { purgeSiteData } from '../services/site-deletion.service';
import type { CronJob } from './cron-job.types';

export interface SiteDeletionJobDeps {
  mongo: mongoose.Connection;
  config: Pick<CronConfig, 'siteDeletion' | 'retention'>;
  now: () => Date;
}

/** Sites handled per run; more wait for the next run, the longest waiting first. */
const SITES_PER_RUN = 20;

/**
 * Removes the data of sites that DELETE /sites/:site_id marked deleted: their domain claims, raw events,
 * rollups and own write manifests, in batches. The mark is the durable record, so a deletion survives any
 * restart. Every run purges again until the mark is SITE_DELETION_SETTLE_MS old (events already queued when
 * the site was deleted are stored in that time, and removed by a later run); then the site document goes
 * too, and its site_id is free again.
 */
export function createSiteDeletionJob({ mongo, config, now }: SiteDeletionJobDeps): CronJob {
  const repository = createSiteDataRepository(mongo);
  const { intervalMs, settleMs } = config.siteDeletion;
  return {
    name: 'site-deletion',
    intervalMs,
    exclusive: true,
    async run({ signal, progress }) {
      const sites = await repository.findDeletedSites(SITES_PER_RUN);
      for (const site of sites) {
        await repository.releaseDomains(site.siteId);
        let removed = 0;
        await purgeSiteData(repository, site.siteId, {
          batchSize: config.retention.batchSize,
          pauseMs: config.retention.batchPauseMs,
          signal,
          onBatch: (count) => {
            removed += count;
            progress.removed += count;
            progress.batches += 1;
          },
        });
        const settled = now().getTime() - site.deletedAt.getTime() >= settleMs;
        const gone = settled && (await repository.removeSite(site));
        if (removed > 0 || gone)
          logger.info('site data removed', { siteId: site.siteId, removed, siteRemoved: gone });
      }
    },
  };
}
