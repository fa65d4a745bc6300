import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '@analytics/common';
import type { AgedDocuments } from '../repositories/aged-documents.repository';

export interface BatchedDeleteOptions {
  batchSize: number;
  /** Rest between batches, so other clients' operations get MongoDB's attention. */
  pauseMs: number;
  /** Checked before every batch; an abort ends the loop by throwing the signal's reason. */
  signal: AbortSignal;
  /** Called after each batch with the number it deleted. */
  onBatch: (deleted: number) => void;
}

/**
 * Deletes every document older than `cutoff`, oldest first, never more than one batch per statement:
 * one huge deleteMany would hold MongoDB (and its replication) busy for as long as it takes.
 */
export async function deleteOlderThan(
  documents: AgedDocuments,
  cutoff: Date,
  options: BatchedDeleteOptions,
): Promise<void> {
  for (;;) {
    options.signal.throwIfAborted();
    const ids = await documents.findOldestIds(cutoff, options.batchSize);
    if (ids.length === 0) return;
    const deleted = await documents.deleteIds(ids, cutoff);
    options.onBatch(deleted);
    logger.debug('batch deleted', { collection: documents.collection, deleted });
    // A short batch was the last one: nothing older than the cutoff is left.
    if (ids.length < options.batchSize) return;
    await pause(options.pauseMs, options.signal);
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    // The timer rejects with a generic AbortError; the caller wants the reason it aborted with.
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}
