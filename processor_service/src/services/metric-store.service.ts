import { randomBytes } from 'node:crypto';
import type mongoose from 'mongoose';
import { copyWith, logger, type MetricPointDocument, type MetricWriteDocument } from '@analytics/common';
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
import { sameWrite, uniqueBy, WriteSequence } from './write-protocol.service';

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
  private readonly writes: WriteSequence<MetricPointDocument, MetricWriteDocument>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repos: MetricStoreRepositories,
    private readonly options: MetricStoreOptions,
  ) {
    this.writes = new WriteSequence({
      writer: this.writer,
      what: 'metric points',
      adoptAfterMs: options.adoptAfterMs,
      writes: repos.writes,
      findByWrite: (token) => repos.points.findByWrite(token),
      reassign: (items, to) => repos.points.reassign(items, to),
      buildManifest: buildMetricManifest,
      applyEffects: (ordered) => repos.rollups.apply(ordered),
    });
  }

  /** Writes run one at a time: settle-before-next-write depends on it. */
  store(points: NewMetricPoint[]): Promise<MetricStoreResult> {
    const run = this.queue.then(() => this.storeNow(uniqueBy(points, keyOfPoint)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async storeNow(points: NewMetricPoint[]): Promise<MetricStoreResult> {
    const started = Date.now();
    await this.writes.settleOwnWrites();
    const token = this.writes.nextToken();
    const storedBy = await this.repos.points.insertOnce(points, token);
    await this.options.afterRawWrite?.();
    const ours = points
      .filter((p) => sameWrite(storedBy.get(keyOfPoint(p)), token))
      .map((p): MetricPointDocument => copyWith(p, { wt: token.writer, ws: token.seq }));
    const manifest =
      ours.length > 0 ? await this.repos.writes.claim(buildMetricManifest(token, ours)) : undefined;
    await this.writes.apply([
      ...(manifest ? [manifest] : []),
      ...(await this.writes.coverOthers(points.map(keyOfPoint), storedBy, { token, manifest })),
    ]);
    this.writes.markAllSettled();
    logger.debug('metric batch persisted', {
      points: points.length,
      inserted: ours.length,
      rollups: manifest?.deltas.length ?? 0,
      durationMs: Date.now() - started,
    });
    return { received: points.length, inserted: ours.length };
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
