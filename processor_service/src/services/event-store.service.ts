import { randomBytes } from 'node:crypto';
import {
  eventKeyOf,
  logger,
  type RawEventDocument,
  type WriteManifestDocument,
  type WriteToken,
} from '@analytics/common';
import type mongoose from 'mongoose';
import { createRawEventRepository, type RawEventRepository } from '../repositories/raw-event.repository';
import { createRollupRepository, type RollupRepository } from '../repositories/rollup.repository';
import { createVisitPartRepository, type VisitPartRepository } from '../repositories/visit-part.repository';
import {
  createWriteManifestRepository,
  type WriteManifestRepository,
} from '../repositories/write-manifest.repository';
import { buildManifest } from './write-manifest.service';
import { sameWrite, uniqueBy, WriteSequence } from './write-protocol.service';

/** Test-only hook between the raw write and the rollup writes (see faults.ts). */
export type AfterRawWriteHook = () => void | Promise<void>;

export interface StoreResult {
  received: number;
  inserted: number;
}

export interface EventStoreRepositories {
  rawEvents: RawEventRepository;
  rollups: RollupRepository;
  visitParts: VisitPartRepository;
  writes: WriteManifestRepository;
}

export interface EventStoreOptions {
  /**
   * How old another writer's unsettled write must be before this store settles it itself: longer than
   * any insert can still run on the server after its writer gave up or died.
   */
  adoptAfterMs: number;
  afterRawWrite?: AfterRawWriteHook;
  /** This store's writer id; random by default (one per process). Backfills pass a backfill writer. */
  writer?: string;
}

/**
 * Persists batches of events and brings every rollup they touch up to date, exactly, in four round
 * trips per write whatever its size and whatever the collections hold:
 *
 * 1. insert the raw events, each tagged with this write's token (writer, seq); an event stored before
 *    keeps the token of the write that stored it (read back only when some were);
 * 2. claim the write's manifest: the increments it owes the rollups, fixed before any rollup changes;
 * 3. apply the manifest: each view rollup and visit part is raised by its count only if this writer's
 *    guard there is below `seq` (so it lands once however often it is applied), users join their sets,
 *    visit parts' first and last events move only outwards;
 * 4. mark the manifest applied.
 *
 * A write that stops half-way (timeout, crash) is settled later from what it stored: by its own writer
 * before its next write, or, once it is older than `adoptAfterMs`, by any processor that meets one of
 * its events again. Nothing is recounted from the raw events, so a write's cost follows its batch,
 * never the collection (docs/architecture.md, "Exact rollups", gives the argument in full).
 */
export class EventStore {
  /** One writer per process lifetime: sequences restart with it, so they never go back. */
  readonly writer: string;
  private readonly writes: WriteSequence<RawEventDocument, WriteManifestDocument>;
  private readonly afterRawWrite: AfterRawWriteHook;
  /** Stores run one at a time: the settle-before-next-write order depends on it. */
  private queue: Promise<unknown> = Promise.resolve();
  private settleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly repos: EventStoreRepositories,
    options: EventStoreOptions,
  ) {
    this.afterRawWrite = options.afterRawWrite ?? (() => undefined);
    this.writer = options.writer ?? randomBytes(6).toString('hex');
    this.writes = new WriteSequence({
      writer: this.writer,
      what: 'events',
      adoptAfterMs: options.adoptAfterMs,
      writes: repos.writes,
      findByWrite: (token) => repos.rawEvents.findByWrite(token),
      reassign: (items, to) => repos.rawEvents.reassign(items, to),
      buildManifest,
      // Two collections, each applied in sequence order and idempotently: they need no order between
      // them, so their round trips overlap. Both have finished (or failed) before this returns, so
      // nothing of a write still runs when the manifest is marked applied or a failed write is settled.
      applyEffects: async (ordered) => {
        const applied = await Promise.allSettled([
          repos.rollups.apply(ordered),
          repos.visitParts.apply(ordered),
        ]);
        for (const outcome of applied) if (outcome.status === 'rejected') throw outcome.reason;
      },
    });
  }

  store(docs: RawEventDocument[]): Promise<StoreResult> {
    // `received` counts every delivery: an event twice in one batch (two deliveries of a job that met in
    // one write) is one duplicate, as it is when the two deliveries fall in different writes.
    const run = this.queue.then(async () => ({
      ...(await this.storeNow(uniqueBy(docs, eventKeyOf))),
      received: docs.length,
    }));
    this.queue = run.catch(() => this.settleSoon());
    return run;
  }

  /**
   * Visit backfill (store built with a backfill writer): counts in the visit parts up to `limit` events
   * stored before visit parts existed, once; resolves to how many it counted (0: none left). Events a
   * stopped backfill took and may not have counted are settled first, from their manifest or from what
   * they hold, so a crash at any step neither loses nor doubles one.
   */
  backfillVisits(limit: number): Promise<number> {
    const run = this.queue.then(async () => {
      for (const token of await this.repos.rawEvents.backfillWritesInFlight()) {
        await this.settleBackfillWrite(token);
      }
      const token = this.writes.nextToken();
      const taken = await this.repos.rawEvents.takeUncountedInVisits(limit, token);
      if (taken.length > 0) await this.settleBackfillWrite(token);
      this.writes.markAllSettled();
      return taken.length;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async settleBackfillWrite(token: WriteToken): Promise<void> {
    await this.writes.apply([await this.writes.manifestOf(token)]);
    await this.repos.rawEvents.markCountedInVisits(token);
  }

  /** Stops settling in the background (shutdown); an unsettled write is left to its jobs' next runs. */
  close(): void {
    this.closed = true;
    clearTimeout(this.settleTimer);
  }

  /**
   * After a failed write, settle it without waiting for the next batch: its jobs may go to another
   * processor, which would otherwise wait up to `adoptAfterMs` for it. Retried (1, 2, 4, then every 5 s)
   * while the database refuses; runs in the store's queue, so never beside a write.
   */
  private settleSoon(attempt = 0): void {
    if (this.closed || !this.writes.hasUnsettled || this.settleTimer) return;
    this.settleTimer = setTimeout(
      () => {
        this.settleTimer = undefined;
        this.queue = this.queue
          .then(() => this.writes.settleOwnWrites())
          .catch(() => this.settleSoon(attempt + 1));
      },
      Math.min(1000 * 2 ** attempt, 5000),
    );
    this.settleTimer.unref();
  }

  private async storeNow(docs: RawEventDocument[]): Promise<StoreResult> {
    const started = Date.now();
    await this.writes.settleOwnWrites();
    const token = this.writes.nextToken();
    const storedBy = await this.repos.rawEvents.insertOnce(docs, token);
    await this.afterRawWrite();

    const ours = docs.filter((doc) => sameWrite(storedBy.get(eventKeyOf(doc)), token));
    // A write that stored nothing (every event resent) owes nothing: its insert has finished, so no event
    // can carry its token later, and it needs no manifest.
    const manifest = ours.length > 0 ? await this.repos.writes.claim(buildManifest(token, ours)) : undefined;
    await this.writes.apply([
      ...(manifest ? [manifest] : []),
      ...(await this.writes.coverOthers(docs.map(eventKeyOf), storedBy, { token, manifest })),
    ]);
    this.writes.markAllSettled();

    logger.debug('batch persisted', {
      events: docs.length,
      inserted: ours.length,
      duplicates: docs.length - ours.length,
      rollups: manifest?.views.length ?? 0,
      users: manifest?.users.length ?? 0,
      durationMs: Date.now() - started,
    });
    return { received: docs.length, inserted: ours.length };
  }
}

/** An EventStore on one MongoDB connection (the service and the tests build it the same way). */
export function createEventStore(connection: mongoose.Connection, options: EventStoreOptions): EventStore {
  return new EventStore(
    {
      rawEvents: createRawEventRepository(connection),
      rollups: createRollupRepository(connection),
      visitParts: createVisitPartRepository(connection),
      writes: createWriteManifestRepository(connection),
    },
    options,
  );
}
