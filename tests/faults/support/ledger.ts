import { getRawEventModel } from '@analytics/common';
import { postJson, type PostResult } from '@analytics/testkit';
import type mongoose from 'mongoose';
import { duplicateRawEvents, rollupDifferences } from '../../support/recount';

export interface LedgerEvent {
  site_id: string;
  event_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  timestamp?: string;
}

let sequence = 0;

/** Page views with ids unique to this run. */
export function makeEvents(siteId: string, count: number, label: string): LedgerEvent[] {
  return Array.from({ length: count }, (_, i) => {
    sequence += 1;
    return {
      site_id: siteId,
      event_id: `${label}-${process.pid}-${sequence}`,
      event_type: 'page_view',
      path: `/${label}/${i % 5}`,
      user_id: `user-${i % 9}`,
    };
  });
}

/** Every event id the system answered 202 for: the promise that must be kept. */
export class Ledger {
  readonly accepted = new Set<string>();
  readonly statuses = new Map<number, number>();

  /** Sends a batch; its ids enter the ledger only on 202. */
  async sendBatch(ingestionUrl: string, writeKey: string, events: LedgerEvent[]): Promise<PostResult> {
    const result = await postJson(`${ingestionUrl}/events`, { events }, { 'x-api-key': writeKey }, 5000);
    this.count(result.status);
    if (result.status === 202) for (const event of events) this.accepted.add(event.event_id);
    return result;
  }

  async sendOne(ingestionUrl: string, writeKey: string, event: LedgerEvent): Promise<PostResult> {
    const result = await postJson(`${ingestionUrl}/event`, event, { 'x-api-key': writeKey }, 5000);
    this.count(result.status);
    if (result.status === 202) this.accepted.add(event.event_id);
    return result;
  }

  private count(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

export interface LedgerReport {
  accepted: number;
  stored: number;
  lost: number;
  duplicated: number;
  rollupMismatches: number;
}

/**
 * The three checks of every case: no accepted id missing from raw storage, no id stored twice, every
 * rollup equal to a recount of the raw events. Prints the figures.
 */
export async function checkLedger(
  caseName: string,
  ledger: Ledger,
  mongo: mongoose.Connection,
): Promise<LedgerReport> {
  const stored = new Set(
    (await getRawEventModel(mongo).find({}, { event_id: 1 }).lean()).map((doc) => doc.event_id),
  );
  const lost = [...ledger.accepted].filter((id) => !stored.has(id));
  const report: LedgerReport = {
    accepted: ledger.accepted.size,
    stored: stored.size,
    lost: lost.length,
    duplicated: await duplicateRawEvents(mongo),
    rollupMismatches: (await rollupDifferences(mongo)).length,
  };
  const statuses = Object.fromEntries(
    [...ledger.statuses.entries()].map(([k, v]) => [k === 0 ? 'no answer' : k, v]),
  );
  process.stdout.write(
    `LEDGER ${caseName}: ${JSON.stringify(report)} responses ${JSON.stringify(statuses)}\n`,
  );
  return report;
}
