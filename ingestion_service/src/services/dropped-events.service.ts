/** Why an accepted request's events were not enqueued (the later metrics work exposes these counts). */
export type DropReason = 'bot';

/** In-process counters of events answered as usual but counted in no statistic. */
export class DroppedEvents {
  private readonly counts = new Map<DropReason, number>();

  count(reason: DropReason, events: number): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + events);
  }

  total(reason: DropReason): number {
    return this.counts.get(reason) ?? 0;
  }
}
