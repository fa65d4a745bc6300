import { counter, METRIC_NAMES, type ServiceMetrics } from '@analytics/common';

/**
 * Why events of an accepted request were not enqueued (bots), or parts of them were left out: messages
 * of another product's protocol that could not be mapped, and props beyond what an event keeps.
 */
export type DropReason = 'bot' | 'unmappable' | 'props_dropped';

/**
 * Counts events answered as usual but counted in no statistic: in process, and in the Prometheus series
 * `analytics_events_dropped_total{reason}` when the service has metrics.
 */
export class DroppedEvents {
  private readonly counts = new Map<DropReason, number>();
  private readonly series;

  constructor(metrics?: ServiceMetrics) {
    this.series = metrics
      ? counter(metrics.registry, METRIC_NAMES.eventsDropped, 'Events refused, by reason', ['reason'])
      : undefined;
  }

  count(reason: DropReason, events: number): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + events);
    this.series?.inc({ reason }, events);
  }

  total(reason: DropReason): number {
    return this.counts.get(reason) ?? 0;
  }
}
