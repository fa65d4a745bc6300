/**
 * A naive, independent answer to POST /api/v2/query from the raw events themselves (the test's ground
 * truth): visits are cut from each visitor's sorted events, and every figure is counted event by event.
 * Deliberately the slow, obvious way: it shares no code with the service.
 */
export interface TruthEvent {
  event_id: string;
  event_type: string;
  path?: string;
  visitor: string;
  timestamp: Date;
  props?: { key: string; value: string | number | boolean }[];
  [field: string]: unknown;
}

export type TruthFilter = [
  op: 'is' | 'is_not' | 'contains' | 'contains_not',
  dimension: string,
  values: string[],
];

export interface TruthQuery {
  metrics: string[];
  dimensions: string[];
  filters: TruthFilter[];
  startMs: number;
  endMs: number;
  zone: string;
}

interface TruthVisit {
  visitor: string;
  events: TruthEvent[];
  first: TruthEvent;
  entry?: string;
  exit?: string;
  bounce: boolean;
  durationMs: number;
}

const GAP_MS = 30 * 60_000;
const earlier = (a: TruthEvent, b: TruthEvent) =>
  a.timestamp.getTime() - b.timestamp.getTime() ||
  (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);

export function truthVisits(events: TruthEvent[]): Map<TruthEvent, TruthVisit> {
  const byVisitor = new Map<string, TruthEvent[]>();
  for (const e of events) byVisitor.set(e.visitor, [...(byVisitor.get(e.visitor) ?? []), e]);
  const visitOf = new Map<TruthEvent, TruthVisit>();
  for (const list of byVisitor.values()) {
    list.sort(earlier);
    let run: TruthEvent[] = [];
    const close = () => {
      if (run.length === 0) return;
      const views = run.filter((e) => e.event_type === 'page_view');
      const visit: TruthVisit = {
        visitor: run[0]!.visitor,
        events: run,
        first: run[0]!,
        entry: views[0]?.path,
        exit: views[views.length - 1]?.path,
        bounce: views.length === 1 && run.length === 1,
        durationMs: run[run.length - 1]!.timestamp.getTime() - run[0]!.timestamp.getTime(),
      };
      for (const e of run) visitOf.set(e, visit);
      run = [];
    };
    for (const e of list) {
      if (run.length > 0 && e.timestamp.getTime() - run[run.length - 1]!.timestamp.getTime() >= GAP_MS)
        close();
      run.push(e);
    }
    close();
  }
  return visitOf;
}

function localLabel(at: Date, zone: string, granularity: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const day = `${parts.year}-${parts.month}-${parts.day}`;
  if (granularity === 'day') return day;
  throw new Error(`ground truth knows time:day only, not ${granularity}`);
}

function value(e: TruthEvent, visit: TruthVisit, dimension: string, zone: string): string | undefined {
  if (dimension === 'time:day') return localLabel(e.timestamp, zone, 'day');
  if (dimension === 'event:page') return e.path;
  if (dimension === 'event:name') return e.event_type;
  if (dimension.startsWith('event:props:')) {
    const prop = e.props?.find((p) => p.key === dimension.slice(12));
    return prop === undefined
      ? undefined
      : typeof prop.value === 'string'
        ? prop.value
        : JSON.stringify(prop.value);
  }
  if (dimension === 'visit:entry_page') return visit.entry;
  if (dimension === 'visit:exit_page') return visit.exit;
  const field = visit.first[dimension.slice('visit:'.length)];
  return typeof field === 'string' ? field : undefined;
}

function holds([op, , values]: TruthFilter, v: string | undefined): boolean {
  const is = v !== undefined && values.includes(v);
  const contains = v !== undefined && values.some((x) => v.includes(x));
  return { is, is_not: !is, contains, contains_not: !contains }[op];
}

const round = (x: number, decimals: number) => {
  const scale = 10 ** decimals;
  return Math.round(x * scale + 1e-9) / scale;
};

/** Rows keyed by their dimension values (JSON), each with the metrics in the query's order. */
export function truthAnswer(events: TruthEvent[], query: TruthQuery): Map<string, number[]> {
  const visitOf = truthVisits(events);
  const rows = new Map<
    string,
    { visitors: Set<string>; visits: Set<TruthVisit>; pageviews: number; events: number }
  >();
  const everyone = new Set<string>();
  for (const e of events) {
    const t = e.timestamp.getTime();
    if (t < query.startMs || t >= query.endMs) continue;
    const visit = visitOf.get(e)!;
    if (!query.filters.every((f) => holds(f, value(e, visit, f[1], query.zone)))) continue;
    everyone.add(visit.visitor);
    const dims = query.dimensions.map((d) => value(e, visit, d, query.zone));
    if (dims.some((d) => d === undefined)) continue;
    const key = JSON.stringify(dims);
    const row = rows.get(key) ?? { visitors: new Set(), visits: new Set(), pageviews: 0, events: 0 };
    rows.set(key, row);
    row.visitors.add(visit.visitor);
    row.visits.add(visit);
    row.events += 1;
    if (e.event_type === 'page_view') row.pageviews += 1;
  }
  if (query.dimensions.length === 0 && rows.size === 0)
    rows.set('[]', { visitors: new Set(), visits: new Set(), pageviews: 0, events: 0 });
  const answer = new Map<string, number[]>();
  for (const [key, row] of rows) {
    const visits = [...row.visits];
    answer.set(
      key,
      query.metrics.map((m) => {
        switch (m) {
          case 'visitors':
            return row.visitors.size;
          case 'visits':
            return visits.length;
          case 'pageviews':
            return row.pageviews;
          case 'events':
            return row.events;
          case 'bounce_rate':
            return visits.length
              ? round((100 * visits.filter((v) => v.bounce).length) / visits.length, 1)
              : 0;
          case 'visit_duration':
            return visits.length
              ? round(visits.reduce((s, v) => s + v.durationMs, 0) / visits.length / 1000, 0)
              : 0;
          case 'views_per_visit':
            return visits.length ? round(row.pageviews / visits.length, 2) : 0;
          case 'percentage':
            return everyone.size ? round((100 * row.visitors.size) / everyone.size, 1) : 0;
          default:
            throw new Error(`unknown metric ${m}`);
        }
      }),
    );
  }
  return answer;
}
