import { logger, writeTokenId, type WriteToken } from '@analytics/common';
import type { ManifestRepository } from '../repositories/write-manifest.repository';

/**
 * The parts of the write protocol (docs/architecture.md, "Why every number is exact") that do not depend
 * on what is written: the event store and the metric store both run on them.
 */

/** What every write manifest carries, whatever it owes. */
export interface ManifestHead {
  _id: string;
  writer: string;
  seq: number;
  applied: boolean;
}

/** The same item twice in one batch (a job delivered twice) is one item: the first copy is kept. */
export function uniqueBy<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Whether an item was stored by write `b` (`null`: stored before writes had tokens). */
export function sameWrite(a: WriteToken | null | undefined, b: WriteToken): boolean {
  return a !== null && a !== undefined && a.writer === b.writer && a.seq === b.seq;
}

/**
 * The manifests to apply now, in sequence order: those given that are not applied yet, and before them
 * every earlier unapplied write of each other writer met (a writer's writes land in sequence order; this
 * writer's own were settled before). One read per other writer.
 */
export async function manifestsToApply<M extends ManifestHead>(
  manifests: M[],
  ownWriter: string,
  unappliedBefore: (writer: string, seq: number) => Promise<M[]>,
): Promise<M[]> {
  const byId = new Map<string, M>();
  const latestOfOtherWriters = new Map<string, number>();
  for (const manifest of manifests) {
    if (manifest.applied) continue;
    byId.set(manifest._id, manifest);
    if (manifest.writer !== ownWriter) {
      latestOfOtherWriters.set(
        manifest.writer,
        Math.max(manifest.seq, latestOfOtherWriters.get(manifest.writer) ?? 0),
      );
    }
  }
  for (const [writer, seq] of latestOfOtherWriters) {
    for (const earlier of await unappliedBefore(writer, seq)) byId.set(earlier._id, earlier);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Another writer's write with no manifest is either under way or stopped (its process died or gave up).
 * Waits for its manifest while it is young; once older than `adoptAfterMs`, nothing it sent can still be
 * running, so `adoptNow` settles it from what it stored. Logs the wait at most once a second.
 */
export class WriteAdoption<M> {
  private lastWaitLog = 0;

  constructor(
    private readonly options: {
      adoptAfterMs: number;
      /** `events` or `points`, for the log lines. */
      what: string;
      find: (id: string) => Promise<M | undefined>;
    },
  ) {}

  async manifestOf(token: WriteToken, adoptNow: () => Promise<M>): Promise<M> {
    const id = writeTokenId(token);
    const { adoptAfterMs, what } = this.options;
    for (let pauseMs = 50; ; pauseMs = Math.min(pauseMs * 2, 1000)) {
      const ageMs = Date.now() - token.seq;
      if (ageMs >= adoptAfterMs) {
        logger.warn('settling an unfinished write of another processor', { write: id, of: what });
        return adoptNow();
      }
      if (Date.now() - this.lastWaitLog >= 1000) {
        this.lastWaitLog = Date.now();
        logger.info('waiting for another processor to settle a write holding items of this batch', {
          write: id,
          of: what,
          ageMs,
          adoptAfterMs,
        });
      }
      await sleep(Math.min(pauseMs, adoptAfterMs - ageMs));
      const manifest = await this.options.find(id);
      if (manifest) return manifest;
    }
  }
}

/** An item a write must count but no manifest covers: it moves from the write that stored it to a new one. */
export interface UncoveredItem {
  key: string;
  from: WriteToken;
}

/**
 * Makes sure every item of a batch that this write did not store is counted by the write that did: that
 * write's manifest is found (or adopted) and returned for applying unless applied; an item missing from
 * the manifest that should hold it (stored after the manifest was fixed), and an item of this write
 * missing from its own manifest, is returned as uncovered. `null` in `storedBy`: stored before writes had
 * manifests, so settled.
 */
export async function coverOtherWrites<M extends ManifestHead & { keys: string[] }>(
  keys: string[],
  storedBy: Map<string, WriteToken | null>,
  own: { token: WriteToken; manifest: M | undefined },
  manifests: {
    find: (ids: string[]) => Promise<Map<string, M>>;
    adopt: (token: WriteToken) => Promise<M>;
  },
): Promise<{ toApply: M[]; uncovered: UncoveredItem[] }> {
  const ownKeys = new Set(own.manifest?.keys);
  const others = new Map<string, { token: WriteToken; keys: string[] }>();
  const uncovered: UncoveredItem[] = [];
  for (const key of keys) {
    const by = storedBy.get(key);
    if (by === null || by === undefined) continue;
    if (sameWrite(by, own.token)) {
      if (!ownKeys.has(key)) uncovered.push({ key, from: by });
      continue;
    }
    const id = writeTokenId(by);
    const entry = others.get(id) ?? { token: by, keys: [] };
    entry.keys.push(key);
    others.set(id, entry);
  }
  const toApply: M[] = [];
  if (others.size > 0) {
    const known = await manifests.find([...others.keys()]);
    for (const [id, { token, keys: itemKeys }] of others) {
      const manifest = known.get(id) ?? (await manifests.adopt(token));
      if (!manifest.applied) toApply.push(manifest);
      const covered = new Set(manifest.keys);
      for (const key of itemKeys) if (!covered.has(key)) uncovered.push({ key, from: token });
    }
  }
  return { toApply, uncovered };
}

type Manifest = ManifestHead & { keys: string[] };

/** What a store gives its write sequence: how its writes' items are read back, moved and counted. */
export interface WriteSequenceParts<S, M extends Manifest> {
  writer: string;
  /** `events` or `metric points`, for the log lines. */
  what: string;
  /** How old another writer's unsettled write must be before it is settled from here. */
  adoptAfterMs: number;
  writes: ManifestRepository<M>;
  /** The items a write stored, as stored. */
  findByWrite: (token: WriteToken) => Promise<S[]>;
  /** Moves items to write `to`, each only while it still belongs to its `from`; resolves to those in `to`. */
  reassign: (items: UncoveredItem[], to: WriteToken) => Promise<S[]>;
  buildManifest: (token: WriteToken, stored: S[]) => M;
  /** Applies manifests' effects (rollups, visit parts), in the order given, idempotently. */
  applyEffects: (ordered: M[]) => Promise<void>;
}

/**
 * One writer's writes, whatever they store: tokens in sequence, this writer's unsettled writes settled
 * before its next one, other writers' writes met in a batch covered (adopted once stopped), manifests
 * applied in sequence order and then marked applied. The event store and the metric store each run one;
 * their writes must run one at a time (the settle-before-next-write order depends on it).
 */
export class WriteSequence<S, M extends Manifest> {
  private lastSeq = 0;
  /** This writer's writes that may not be applied yet, oldest first. */
  private unsettled: WriteToken[] = [];
  private readonly adoption: WriteAdoption<M>;

  constructor(private readonly parts: WriteSequenceParts<S, M>) {
    this.adoption = new WriteAdoption({
      adoptAfterMs: parts.adoptAfterMs,
      what: parts.what,
      find: async (id) => (await parts.writes.find([id])).get(id),
    });
  }

  get writer(): string {
    return this.parts.writer;
  }

  get hasUnsettled(): boolean {
    return this.unsettled.length > 0;
  }

  /** The next write's token; the write stays unsettled until `markAllSettled`. */
  nextToken(): WriteToken {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now());
    const token = { writer: this.parts.writer, seq: this.lastSeq };
    this.unsettled.push(token);
    return token;
  }

  /** After a write and everything before it was applied. */
  markAllSettled(): void {
    this.unsettled = [];
  }

  /** A write's manifest: the one claimed, or one claimed now from what the write stored. */
  async manifestOf(token: WriteToken): Promise<M> {
    const id = writeTokenId(token);
    return (await this.parts.writes.find([id])).get(id) ?? this.claimFromStored(token);
  }

  /** Settles this writer's earlier writes that failed half-way, oldest first, from what they stored. */
  async settleOwnWrites(): Promise<void> {
    if (this.unsettled.length === 0) return;
    const known = await this.parts.writes.find(this.unsettled.map(writeTokenId));
    const manifests: M[] = [];
    for (const token of this.unsettled) {
      manifests.push(known.get(writeTokenId(token)) ?? (await this.claimFromStored(token)));
    }
    await this.apply(manifests);
    this.unsettled = [];
  }

  /**
   * Makes sure every item of the batch that this write did not store is counted by the write that did
   * (coverOtherWrites); an item no manifest covers (stored after its write's manifest was fixed) moves to
   * a new write of this writer. Resolves to the manifests to apply besides this write's own.
   */
  async coverOthers(
    keys: string[],
    storedBy: Map<string, WriteToken | null>,
    own: { token: WriteToken; manifest: M | undefined },
  ): Promise<M[]> {
    const { toApply, uncovered } = await coverOtherWrites(keys, storedBy, own, {
      find: (ids) => this.parts.writes.find(ids),
      adopt: (token) => this.adoption.manifestOf(token, () => this.claimFromStored(token)),
    });
    if (uncovered.length > 0) {
      const token = this.nextToken();
      const moved = await this.parts.reassign(uncovered, token);
      logger.warn(`${this.parts.what} stored after their write was settled; counting them in a new write`, {
        items: uncovered.length,
        moved: moved.length,
      });
      toApply.push(await this.parts.writes.claim(this.parts.buildManifest(token, moved)));
    }
    return toApply;
  }

  /**
   * Applies the manifests not applied yet and marks them applied; another writer's earlier unapplied
   * writes are applied first (manifestsToApply).
   */
  async apply(manifests: M[]): Promise<void> {
    const ordered = await manifestsToApply(manifests, this.parts.writer, (writer, seq) =>
      this.parts.writes.unappliedBefore(writer, seq),
    );
    if (ordered.length === 0) return;
    await this.parts.applyEffects(ordered);
    await this.parts.writes.markApplied(ordered.map((m) => m._id));
  }

  private async claimFromStored(token: WriteToken): Promise<M> {
    return this.parts.writes.claim(this.parts.buildManifest(token, await this.parts.findByWrite(token)));
  }
}
