import { randomBytes } from 'node:crypto';
import {
  eventKeyOf,
  logger,
  writeTokenId,
  type RawEventDocument,
  type WriteManifestDocument,
  type WriteToken,
} from '@analytics/common';
import type mongoose from 'mongoose';
import {
  createRawEventRepository,
  type RawEventRepository,
  type StoredBy,
} from '../repositories/raw-event.repository';
import { createRollupRepository, type RollupRepository } from '../repositories/rollup.repository';
import { createVisitPartRepository, type VisitPartRepository } from '../repositories/visit-part.repository';
import {
  createWriteManifestRepository,
  type WriteManifestRepository,
} from '../repositories/write-manifest.repository';
import { buildManifest } from './write-manifest.service';
import {
  coverOtherWrites,
  manifestsToApply,
  sameWrite,
  uniqueBy,
  WriteAdoption,
} from './write-protocol.service';

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
  private lastSeq = 0;
  /** This writer's writes that may not be applied yet, oldest first; settled before the next one. */
  private unsettled: WriteToken[] = [];
  private readonly afterRawWrite: AfterRawWriteHook;
  private readonly adoption: WriteAdoption<WriteManifestDocument>;
  /** Stores run one at a time: the settle-before-next-write order depends on it. */
  private queue: Promise<unknown> = Promise.resolve();
  private settleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly repos: EventStoreRepositories,
    private readonly options: EventStoreOptions,
  ) {
    this.afterRawWrite = options.afterRawWrite ?? (() => undefined);
    this.writer = options.writer ?? randomBytes(6).toString('hex');
    this.adoption = new WriteAdoption({
      adoptAfterMs: options.adoptAfterMs,
      what: 'events',
      find: async (id) => (await repos.writes.find([id])).get(id),
    });
  }

  private nextToken(): WriteToken {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now());
    const token = { writer: this.writer, seq: this.lastSeq };
    this.unsettled.push(token);
    return token;
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
      const token = this.nextToken();
      const taken = await this.repos.rawEvents.takeUncountedInVisits(limit, token);
      if (taken.length > 0) await this.settleBackfillWrite(token);
      this.unsettled = [];
      return taken.length;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async settleBackfillWrite(token: WriteToken): Promise<void> {
    const id = writeTokenId(token);
    const manifest =
      (await this.repos.writes.find([id])).get(id) ??
      (await this.repos.writes.claim(buildManifest(token, await this.repos.rawEvents.findByWrite(token))));
    await this.apply([manifest]);
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
    if (this.closed || this.unsettled.length === 0 || this.settleTimer) return;
    this.settleTimer = setTimeout(
      () => {
        this.settleTimer = undefined;
        this.queue = this.queue.then(() => this.settleOwnWrites()).catch(() => this.settleSoon(attempt + 1));
      },
      Math.min(1000 * 2 ** attempt, 5000),
    );
    this.settleTimer.unref();
  }

  private async storeNow(docs: RawEventDocument[]): Promise<StoreResult> {
    const started = Date.now();
    await this.settleOwnWrites();
    const token = this.nextToken();
    const storedBy = await this.repos.rawEvents.insertOnce(docs, token);
    await this.afterRawWrite();

    const ours = docs.filter((doc) => sameWrite(storedBy.get(eventKeyOf(doc)), token));
    // A write that stored nothing (every event resent) owes nothing: its insert has finished, so no event
    // can carry its token later, and it needs no manifest.
    const manifest = ours.length > 0 ? await this.repos.writes.claim(buildManifest(token, ours)) : undefined;
    await this.apply([
      ...(manifest ? [manifest] : []),
      ...(await this.coverOthers(docs, storedBy, token, manifest)),
    ]);
    this.unsettled = [];

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

  /** Settles this writer's earlier writes that failed half-way, oldest first, from what they stored. */
  private async settleOwnWrites(): Promise<void> {
    if (this.unsettled.length === 0) return;
    const known = await this.repos.writes.find(this.unsettled.map(writeTokenId));
    const manifests: WriteManifestDocument[] = [];
    for (const token of this.unsettled) {
      manifests.push(
        known.get(writeTokenId(token)) ??
          (await this.repos.writes.claim(
            buildManifest(token, await this.repos.rawEvents.findByWrite(token)),
          )),
      );
    }
    await this.apply(manifests);
    this.unsettled = [];
  }

  /**
   * Makes sure every event of the batch that this write did not store is counted by the write that did:
   * its manifest is applied (adopted first if that write never got one), and an event missing from that
   * manifest (stored after it was fixed) moves to a new write of ours.
   */
  private async coverOthers(
    docs: RawEventDocument[],
    storedBy: Map<string, StoredBy>,
    ownToken: WriteToken,
    own: WriteManifestDocument | undefined,
  ): Promise<WriteManifestDocument[]> {
    const { toApply: result, uncovered } = await coverOtherWrites(
      docs.map(eventKeyOf),
      storedBy,
      {
        token: ownToken,
        manifest: own,
      },
      { find: (ids) => this.repos.writes.find(ids), adopt: (token) => this.adopt(token) },
    );
    if (uncovered.length > 0) {
      const token = this.nextToken();
      const moved = await this.repos.rawEvents.reassign(uncovered, token);
      logger.warn('events stored after their write was settled; counting them in a new write', {
        events: uncovered.length,
        moved: moved.length,
      });
      result.push(await this.repos.writes.claim(buildManifest(token, moved)));
    }
    return result;
  }

  /** Another writer's write with no manifest: waited for, or settled from what it stored once old. */
  private adopt(token: WriteToken): Promise<WriteManifestDocument> {
    return this.adoption.manifestOf(token, async () =>
      this.repos.writes.claim(buildManifest(token, await this.repos.rawEvents.findByWrite(token))),
    );
  }

  /**
   * Applies the manifests not applied yet and marks them applied. A writer's writes land in sequence
   * order, so another writer's earlier unapplied writes are applied first (one read per such writer;
   * this writer's own were settled before).
   */
  private async apply(manifests: WriteManifestDocument[]): Promise<void> {
    const ordered = await manifestsToApply(manifests, this.writer, (writer, seq) =>
      this.repos.writes.unappliedBefore(writer, seq),
    );
    if (ordered.length === 0) return;
    // Two collections, each applied in sequence order and idempotently: they need no order between them,
    // so their round trips overlap. Both have finished (or failed) before this returns, so nothing of a
    // write still runs when the manifest is marked applied or when a failed write is settled again.
    const applied = await Promise.allSettled([
      this.repos.rollups.apply(ordered),
      this.repos.visitParts.apply(ordered),
    ]);
    for (const outcome of applied) if (outcome.status === 'rejected') throw outcome.reason;
    await this.repos.writes.markApplied(ordered.map((m) => m._id));
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
