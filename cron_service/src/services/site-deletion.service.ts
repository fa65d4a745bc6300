import { setTimeout as sleep } from 'node:timers/promises';
import {
  metricPointKey,
  eventKey,
  type MetricWriteDocument,
  type WriteManifestDocument,
} from '@analytics/common';
import type { SiteDataRepository } from '../repositories/site-data.repository';

export interface SitePurgeOptions {
  batchSize: number;
  /** Rest between two batches, so MongoDB keeps serving everyone else. */
  pauseMs: number;
  signal: AbortSignal;
  /** Called after each batch with the number of documents it removed. */
  onBatch: (removed: number) => void;
}

/**
 * Whether a manifest describes only this site's writes, so removing it takes nothing of another site.
 * A manifest shared with other sites stays: it holds only ids and keys (event ids, paths, user ids of the
 * deleted site among them), is never read for an answer, and goes with retention a day after its events.
 */
export function isManifestOnlyOf(manifest: WriteManifestDocument, siteId: string): boolean {
  const prefix = eventKey(siteId, '');
  return (
    manifest.applied &&
    manifest.views.every((view) => view.site_id === siteId) &&
    manifest.users.every((user) => user.site_id === siteId) &&
    manifest.keys.every((key) => key.startsWith(prefix))
  );
}

/** As isManifestOnlyOf, for a custom-metric write (`metric_writes`). */
export function isMetricWriteOnlyOf(manifest: MetricWriteDocument, siteId: string): boolean {
  const prefix = metricPointKey(siteId, '');
  return (
    manifest.applied &&
    manifest.deltas.every((delta) => delta.site_id === siteId) &&
    manifest.keys.every((key) => key.startsWith(prefix))
  );
}

/**
 * Removes every raw event, rollup and own write manifest of a site (and its custom-metric points,
 * rollups and own metric writes), a bounded batch per statement, until
 * none is left. Safe to repeat (a later run finds less or nothing); an abort stops it between batches.
 */
export async function purgeSiteData(
  repository: SiteDataRepository,
  siteId: string,
  options: SitePurgeOptions,
): Promise<void> {
  for (const deleteBatch of [
    repository.deleteEventBatch,
    repository.deleteRollupBatch,
    repository.deleteMetricPointBatch,
    repository.deleteMetricRollupBatch,
  ]) {
    for (;;) {
      options.signal.throwIfAborted();
      const removed = await deleteBatch(siteId, options.batchSize);
      if (removed > 0) options.onBatch(removed);
      if (removed < options.batchSize) break;
      await pause(options);
    }
  }
  let afterMetricWrite: string | undefined;
  for (;;) {
    options.signal.throwIfAborted();
    const found = await repository.findMetricWritesMentioning(siteId, afterMetricWrite, options.batchSize);
    const removed = await repository.deleteMetricWrites(
      found.filter((manifest) => isMetricWriteOnlyOf(manifest, siteId)).map((manifest) => manifest._id),
    );
    if (removed > 0) options.onBatch(removed);
    if (found.length < options.batchSize) break;
    afterMetricWrite = found[found.length - 1]!._id;
    await pause(options);
  }
  let afterId: string | undefined;
  for (;;) {
    options.signal.throwIfAborted();
    const found = await repository.findManifestsMentioning(siteId, afterId, options.batchSize);
    const own = found
      .filter((manifest) => isManifestOnlyOf(manifest, siteId))
      .map((manifest) => manifest._id);
    const removed = await repository.deleteManifests(own);
    if (removed > 0) options.onBatch(removed);
    if (found.length < options.batchSize) return;
    afterId = found[found.length - 1]!._id;
    await pause(options);
  }
}

async function pause(options: SitePurgeOptions): Promise<void> {
  if (options.pauseMs <= 0) return;
  try {
    await sleep(options.pauseMs, undefined, { signal: options.signal });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    throw error;
  }
}
