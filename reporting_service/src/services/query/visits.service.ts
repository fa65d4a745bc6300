import { PAGE_VIEW, VISIT_GAP_MS, type VisitFields, type VisitPartDocument } from '@analytics/common';

/** A visit rebuilt from its visitor's parts (contract: "Visitors and visits"). */
export interface Visit {
  visitor: string;
  /** First and last event time, ms. */
  start: number;
  end: number;
  pageviews: number;
  events: number;
  bounce: boolean;
  entryPage?: string;
  exitPage?: string;
  /** Those of its first event. */
  fields: VisitFields;
  parts: VisitPartDocument[];
}

const before = (at: number, id: string, thanAt: number, thanId: string) =>
  at < thanAt || (at === thanAt && id < thanId);

/**
 * A visitor's visits from its parts: sorted by first event, a part opens a new visit when its first event
 * comes 30 minutes or more after the last event of every part before it. Exact, because the events of
 * one part share a 15-minute bucket: no gap of 30 minutes can hide inside a part.
 */
export function buildVisits(parts: VisitPartDocument[]): Visit[] {
  const byVisitor = new Map<string, VisitPartDocument[]>();
  for (const part of parts) {
    const list = byVisitor.get(part.visitor);
    if (list) list.push(part);
    else byVisitor.set(part.visitor, [part]);
  }
  const visits: Visit[] = [];
  for (const list of byVisitor.values()) {
    list.sort((a, b) => a.ft.getTime() - b.ft.getTime() || (a.fi < b.fi ? -1 : a.fi > b.fi ? 1 : 0));
    let current: VisitPartDocument[] = [];
    let lastEvent = -Infinity;
    for (const part of list) {
      if (current.length > 0 && part.ft.getTime() - lastEvent >= VISIT_GAP_MS) {
        visits.push(visitOf(current));
        current = [];
      }
      current.push(part);
      lastEvent = Math.max(lastEvent, part.lt.getTime());
    }
    if (current.length > 0) visits.push(visitOf(current));
  }
  return visits;
}

function visitOf(parts: VisitPartDocument[]): Visit {
  let first = parts[0]!;
  let end = -Infinity;
  let pageviews = 0;
  let events = 0;
  let entry: VisitPartDocument | undefined;
  let exit: VisitPartDocument | undefined;
  for (const part of parts) {
    if (before(part.ft.getTime(), part.fi, first.ft.getTime(), first.fi)) first = part;
    end = Math.max(end, part.lt.getTime());
    events += part.n;
    if (part.name !== PAGE_VIEW) continue;
    pageviews += part.n;
    if (!entry || before(part.ft.getTime(), part.fi, entry.ft.getTime(), entry.fi)) entry = part;
    if (!exit || before(exit.lt.getTime(), exit.li, part.lt.getTime(), part.li)) exit = part;
  }
  return {
    visitor: first.visitor,
    start: first.ft.getTime(),
    end,
    pageviews,
    events,
    bounce: pageviews === 1 && events === 1,
    ...(entry?.page !== undefined && { entryPage: entry.page }),
    ...(exit?.page !== undefined && { exitPage: exit.page }),
    fields: first.f ?? {},
    parts,
  };
}
