import { randomBytes } from 'node:crypto';
import type mongoose from 'mongoose';
import {
  copyWith,
  logger,
  writeTokenId,
  type MetricPointDocument,
  type MetricWriteDocument,
  type WriteToken,
} from '@analytics/common';
import {
  createMetricPointRepository,
  keyOfPoint,
  type MetricPointRepository,
  type NewMetricPoint,
} from '../repositories/metric-point.repository';
import {
  createMetricRollupRepository,
  type MetricRollupRepository,
} from '../repositories/metric-rollup.repository';
import {
  createMetricWriteRepository,
  type MetricWriteRepository,
} from '../repositories/metric-write.repository';
import { buildMetricManifest } from './metric-manifest.service';
import {
  coverOtherWrites,
  manifestsToApply,
  sameWrite,
  uniqueBy,
  WriteAdoption,
} from './write-protocol.service';

export interface MetricStoreRepositories {
  points: MetricPointRepository;
  rollups: MetricRollupRepository;
  writes: MetricWriteRepository;
}

export interface MetricStoreOptions {
  /** How old another writer's unsettled write must be before this store settles it itself. */
  adoptAfterMs: number;
  /** Test-only hook between the raw write and the manifest (a crash at the worst moment). */
  afterRawWrite?: () => void | Promise<void>;
}

export interface MetricStoreResult {
  received: number;
  inserted: number;
}

/**
 * Stores custom-metric points once per (site_id, metric_id) and keeps their rollups exact, with the same
 * write protocol as the event store (event-store.service.ts; docs/architecture.md, "Why every number is
 * exact"), on collections of its own (`metric_points`, `metric_writes`, `metric_rollups`):
 *
 * 1. insert the points tagged with this write's token (writer, seq); a point stored before keeps the
 *    token of the write that stored it;
 * 2. claim the write's manifest (the rollup deltas of the points it stored), first one wins;
 * 3. apply it: counters raised only past the writer's guard, min/max by conditional set;
 * 4. mark it applied.
 *
 * A write that stops half-way is settled from what it stored: by its writer before its next write, or,
 * once older than `adoptAfterMs`, by any processor that meets one of its points again; a point that
 * landed after its write's manifest was fixed moves to a new write.
 */
export class MetricStore {
  readonly writer = randomBytes(6).toString('hex');
  private lastSeq = 0;
  private unsettled: WriteToken[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  private readonly adoption: WriteAdoption<MetricWriteDocument>;

  constructor(
    private readonly repos: MetricStoreRepositories,
    private readonly options: MetricStoreOptions,
  ) {
    this.adoption = new WriteAdoption({
      adoptAfterMs: options.adoptAfterMs,
      what: 'metric points',
      find: async (id) => (await repos.writes.find([id])).get(id),
    });
  }

  private nextToken(): WriteToken {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now());
    const token = { writer: this.writer, seq: this.lastSeq };
    this.unsettled.push(token);
    return token;
  }

  /** Writes run one at a time: settle-before-next-write depends on it. */
  store(points: NewMetricPoint[]): Promise<MetricStoreResult> {
    const run = this.queue.then(() => this.storeNow(uniqueBy(points, keyOfPoint)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async storeNow(points: NewMetricPoint[]): Promise<MetricStoreResult> {
    const started = Date.now();
    await this.settleOwnWrites();
    const token = this.nextToken();
    const storedBy = await this.repos.points.insertOnce(points, token);
    await this.options.afterRawWrite?.();
    const ours = points
      .filter((p) => sameWrite(storedBy.get(keyOfPoint(p)), token))
      .map((p): MetricPointDocument => copyWith(p, { wt: token.writer, ws: token.seq }));
    const manifest =
      ours.length > 0 ? await this.repos.writes.claim(buildMetricManifest(token, ours)) : undefined;
    await this.apply([
      ...(manifest ? [manifest] : []),
      ...(await this.coverOthers(points, storedBy, token, manifest)),
    ]);
    this.unsettled = [];
    logger.debug('metric batch persisted', {
      points: points.length,
      inserted: ours.length,
      rollups: manifest?.deltas.length ?? 0,
      durationMs: Date.now() - started,
    });
    return { received: points.length, inserted: ours.length };
  }

  private async settleOwnWrites(): Promise<void> {
    if (this.unsettled.length === 0) return;
    const known = await this.repos.writes.find(this.unsettled.map(writeTokenId));
    const manifests: MetricWriteDocument[] = [];
    for (const token of this.unsettled) {
      manifests.push(
        known.get(writeTokenId(token)) ??
          (await this.repos.writes.claim(
            buildMetricManifest(token, await this.repos.points.findByWrite(token)),
          )),
      );
    }
    await this.apply(manifests);
    this.unsettled = [];
  }

  private async coverOthers(
    points: NewMetricPoint[],
    storedBy: Map<string, WriteToken>,
    ownToken: WriteToken,
    own: MetricWriteDocument | undefined,
  ): Promise<MetricWriteDocument[]> {
    const { toApply: result, uncovered } = await coverOtherWrites(
      points.map(keyOfPoint),
      storedBy,
      {
        token: ownToken,
        manifest: own,
      },
      { find: (ids) => this.repos.writes.find(ids), adopt: (token) => this.adopt(token) },
    );
    if (uncovered.length > 0) {
      const token = this.nextToken();
      const moved = await this.repos.points.reassign(uncovered, token);
      logger.warn('metric points stored after their write was settled; counting them in a new write', {
        points: uncovered.length,
        moved: moved.length,
      });
      result.push(await this.repos.writes.claim(buildMetricManifest(token, moved)));
    }
    return result;
  }

  private adopt(token: WriteToken): Promise<MetricWriteDocument> {
    return this.adoption.manifestOf(token, async () =>
      this.repos.writes.claim(buildMetricManifest(token, await this.repos.points.findByWrite(token))),
    );
  }

  /** Applies the manifests not applied yet, each writer's earlier unapplied ones first, in order. */
  private async apply(manifests: MetricWriteDocument[]): Promise<void> {
    const ordered = await manifestsToApply(manifests, this.writer, (writer, seq) =>
      this.repos.writes.unappliedBefore(writer, seq),
    );
    if (ordered.length === 0) return;
    await this.repos.rollups.apply(ordered);
    await this.repos.writes.markApplied(ordered.map((m) => m._id));
  }
}

export function createMetricStore(connection: mongoose.Connection, options: MetricStoreOptions): MetricStore {
  return new MetricStore(
    {
      points: createMetricPointRepository(connection),
      rollups: createMetricRollupRepository(connection),
      writes: createMetricWriteRepository(connection),
    },
    options,
  );
}
