import type { HttpFigures } from './context';
import type { QueryVolume, RunResult } from './results';
import type { WorkerDelta } from './backlog';
import { QUERY_BREAKDOWNS, type QueryBreakdown } from './stages/query';

/** One line of the report: a figure per Node version, and optionally a target checked on each. */
interface Row {
  label: string;
  value: (r: RunResult) => number | undefined;
  digits?: number;
  target?: string;
  /** Whether the figure meets the target on that Node major (some targets differ between 20 and 24). */
  check?: (v: number, nodeMajor: string) => boolean;
  /** Check only on this Node major (the ceiling ratio is a Node 24 target). */
  checkOn?: string;
}
type Line = Row | { section: string };
type Value = Row['value'];

const MB = 1024 * 1024;
const SERVICES = ['ingestion_service', 'processor_service', 'reporting_service', 'cron_service'] as const;

const row = (label: string, value: Value, digits = 0, extra: Partial<Row> = {}): Row => ({
  label,
  value,
  digits,
  ...extra,
});
const atMost = (limit: number, target = `≤ ${limit.toLocaleString('en-US')}`) => ({
  target,
  check: (v: number) => v <= limit,
});
/** Issue 19's targets that differ per Node version. */
const perNode = (
  target: string,
  limits: { '20': number; '24': number },
  meets: (v: number, limit: number) => boolean,
) => ({
  target,
  check: (v: number, nodeMajor: string) => meets(v, nodeMajor === '20' ? limits['20'] : limits['24']),
});

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** Server CPU per event of a batch load. */
function perEvent(figures: HttpFigures | undefined): number | undefined {
  return figures && ratio(figures.serverCpuMicrosPerRequest * figures.rate, figures.eventsPerSecond);
}

/** Each processor write claims one manifest (`findAndModify`), whatever else it sends. */
function eventsPerWrite(delta: WorkerDelta | undefined): number | undefined {
  return ratio(delta?.events, delta?.commandsByName.findAndModify);
}

/** The reporting service's and the test engine's CPU per query (ms). */
function cpuPerQuery(volume: QueryVolume | undefined): number | undefined {
  return volume && volume.cpuMsPerQuery + volume.engineCpuMsPerQuery;
}

const QUERY_DIMENSIONS = Object.keys(QUERY_BREAKDOWNS) as QueryBreakdown[];

const LINES: Line[] = [
  { section: 'Limits (one process; closed loop)' },
  row('bare node:http, parse + 202: req/s', (r) => r.limits?.bare?.rate),
  row('bare node:http, parse + 202: p99 ms', (r) => r.limits?.bare?.latency.p99, 2),
  row('bare node:http, parse + 202: CPU µs / request', (r) => r.limits?.bare?.serverCpuMicrosPerRequest),
  row('bare + await queue.add: req/s', (r) => r.limits?.bareEnqueue?.rate),
  row('bare + await queue.add: p99 ms', (r) => r.limits?.bareEnqueue?.latency.p99, 2),
  row('bare + await queue.add: CPU µs / request', (r) => r.limits?.bareEnqueue?.serverCpuMicrosPerRequest),
  row(
    'bare + await queue.add: redis-server CPU µs / request',
    (r) => r.limits?.bareEnqueue?.redisCpuMicrosPerRequest,
  ),
  row('bare + queue.add, paced open loop at 50 %: p99 ms', (r) => r.limits?.bareEnqueueOpen?.latency.p99, 2),
  { section: 'Naive peer (Express + Joi + queue.add; create + $inc per job)' },
  row('naive POST /event: req/s', (r) => r.naive?.http?.rate),
  row('naive POST /event: p99 ms', (r) => r.naive?.http?.latency.p99, 2),
  row('naive POST /event: CPU µs / request', (r) => r.naive?.http?.serverCpuMicrosPerRequest),
  row('naive without its queue.add (Express + Joi + 202): req/s', (r) => r.naive?.httpNoEnqueue?.rate),
  row(
    'naive without its queue.add: CPU µs / request',
    (r) => r.naive?.httpNoEnqueue?.serverCpuMicrosPerRequest,
  ),
  row(
    'naive without its queue.add ÷ naive peer (best an Express + Joi server can reach)',
    (r) => ratio(r.naive?.httpNoEnqueue?.rate, r.naive?.http?.rate),
    2,
  ),
  row('naive worker: MongoDB round trips / 1,000 events', (r) => r.naive?.worker?.roundTripsPer1000Events),
  row('naive worker: CPU µs / event', (r) => r.naive?.worker?.cpuMicrosPerEvent),
  { section: 'Project: ingestion' },
  row('POST /event closed loop: req/s', (r) => r.ingestion?.event?.rate),
  row('POST /event closed loop: p50 ms', (r) => r.ingestion?.event?.latency.p50, 2),
  row('POST /event closed loop: p99 ms', (r) => r.ingestion?.event?.latency.p99, 2),
  row('POST /event closed loop: ingestion CPU (cores)', (r) => r.ingestion?.event?.cpuCores.server, 2),
  row(
    'POST /event ÷ naive peer',
    (r) => ratio(r.ingestion?.event?.rate, r.naive?.http?.rate),
    2,
    perNode('≥ 1.5 (20), ≥ 1.2 (24)', { '20': 1.5, '24': 1.2 }, (v, limit) => v >= limit),
  ),
  row(
    'POST /event ÷ bare + queue.add ceiling',
    (r) => ratio(r.ingestion?.event?.rate, r.limits?.bareEnqueue?.rate),
    2,
    { target: '≥ 0.5 (Node 24)', check: (v) => v >= 0.5, checkOn: '24' },
  ),
  row(
    'POST /event ÷ naive without its queue.add',
    (r) => ratio(r.ingestion?.event?.rate, r.naive?.httpNoEnqueue?.rate),
    2,
  ),
  row('POST /event ÷ bare parse + 202', (r) => ratio(r.ingestion?.event?.rate, r.limits?.bare?.rate), 2),
  row(
    'POST /event: CPU µs / request',
    (r) => r.ingestion?.event?.serverCpuMicrosPerRequest,
    0,
    perNode('≤ 70 (20), ≤ 55 (24)', { '20': 70, '24': 55 }, (v, limit) => v <= limit),
  ),
  row('POST /event: redis-server CPU µs / request', (r) => r.ingestion?.event?.redisCpuMicrosPerRequest),
  row(
    'POST /event CPU ÷ naive peer CPU (per request)',
    (r) => ratio(r.ingestion?.event?.serverCpuMicrosPerRequest, r.naive?.http?.serverCpuMicrosPerRequest),
    2,
  ),
  row('open loop (paced) at 50 % of max: req/s', (r) => r.ingestion?.eventOpen?.rate),
  row('open loop: p50 ms', (r) => r.ingestion?.eventOpen?.latency.p50, 2),
  row('open loop: p99 ms', (r) => r.ingestion?.eventOpen?.latency.p99, 2, atMost(5)),
  row(
    'open loop: load generator late by, p99 ms (not in the p99 above)',
    (r) => r.ingestion?.eventOpen?.sendLateness?.p99,
    2,
  ),
  row('open loop: ingestion CPU (cores)', (r) => r.ingestion?.eventOpen?.cpuCores.server, 2),
  row('open loop: CPU µs / request', (r) => r.ingestion?.eventOpen?.serverCpuMicrosPerRequest),
  row('open loop: ingestion event-loop delay p99 ms', (r) => r.ingestion?.eventOpen?.eventLoopDelay?.p99, 1),
  row('open loop: ingestion event-loop delay max ms', (r) => r.ingestion?.eventOpen?.eventLoopDelay?.max, 1),
  row('POST /events, 100-event batches: events/s', (r) => r.ingestion?.events?.eventsPerSecond, 0, {
    target: '≥ 80,000',
    check: (v) => v >= 80_000,
  }),
  row('POST /events: p99 ms per batch', (r) => r.ingestion?.events?.latency.p99, 2),
  row('POST /events: CPU µs / event', (r) => perEvent(r.ingestion?.events), 1),
  { section: 'Project: processor (a backlog drained at full speed; engine = MongoDB test engine)' },
  row(
    '100-event jobs, re-delivered: round trips / 1,000 events',
    (r) => r.processor?.resent?.roundTripsPer1000Events,
    1,
    atMost(5),
  ),
  row('100-event jobs, re-delivered: CPU µs / event', (r) => r.processor?.resent?.cpuMicrosPerEvent, 1),
  row('100-event jobs, re-delivered: events per write', (r) => eventsPerWrite(r.processor?.resent)),
  row(
    '100-event jobs, new: round trips / 1,000 events',
    (r) => r.processor?.batches?.roundTripsPer1000Events,
    1,
  ),
  row('100-event jobs, new: CPU µs / event', (r) => r.processor?.batches?.cpuMicrosPerEvent, 1, atMost(60)),
  row('100-event jobs, new: engine ms / 1,000 events', (r) => r.processor?.batches?.dbMillisPer1000Events),
  row(
    '1-event jobs, new: round trips / 1,000 events',
    (r) => r.processor?.singles?.roundTripsPer1000Events,
    1,
  ),
  row('1-event jobs, new: CPU µs / event', (r) => r.processor?.singles?.cpuMicrosPerEvent, 1),
  { section: 'Project: 1,600 events sent at once (16 × 100) to the running services' },
  row('drain s (last 202 → queue empty)', (r) => r.drain && r.drain.drainMs / 1000, 1, atMost(15)),
  row('raw events stored', (r) => r.drain?.rawEventsStored, 0, {
    target: '= 1,600',
    check: (v) => v === 1600,
  }),
  row('rollups differing from the events sent', (r) => r.drain?.rollupMismatches, 0, atMost(0, '= 0')),
  row('processor: CPU µs / event', (r) => r.drain?.processor.cpuMicrosPerEvent, 1),
  row(
    'processor: round trips / 1,000 events',
    (r) => r.drain?.processor.roundTripsPer1000Events,
    1,
    atMost(5),
  ),
  row('processor: events per write', (r) => eventsPerWrite(r.drain?.processor)),
  row('test engine CPU s meanwhile', (r) => r.drain?.engineCpuSeconds, 1),
  { section: 'Project: freshness (202 → counted by /stats) at 200 events/s' },
  row('probes: p50 ms', (r) => r.freshness?.probes.p50),
  row('probes: p99 ms', (r) => r.freshness?.probes.p99, 0, atMost(2000)),
  row('probes: count', (r) => r.freshness?.probes.count),
  row(
    'processor meanwhile: round trips / 1,000 events',
    (r) => r.freshness?.processor.roundTripsPer1000Events,
    1,
  ),
  row('new events only: p50 ms (FIFO estimate)', (r) => r.freshness?.newEvents?.fifo.p50),
  row('new events only: p99 ms (FIFO estimate)', (r) => r.freshness?.newEvents?.fifo.p99),
  row(
    'new events only: engine ms / 1,000 events',
    (r) => r.freshness?.newEvents?.processor.dbMillisPer1000Events,
  ),
  { section: 'Project: GET /stats, same paths/users/hours, 5× the events' },
  row('documents read, 1×', (r) => r.stats?.base?.docsRead),
  row('documents read, 5× ÷ 1×', (r) => ratio(r.stats?.fivefold?.docsRead, r.stats?.base?.docsRead), 2, {
    target: '= 1',
    check: (v) => v === 1,
  }),
  row('latency p50 ms, 1×', (r) => r.stats?.base?.http.latency.p50, 2),
  row('latency p50 ms, 5×', (r) => r.stats?.fivefold?.http.latency.p50, 2),
  row(
    'latency p50, 5× ÷ 1×',
    (r) => ratio(r.stats?.fivefold?.http.latency.p50, r.stats?.base?.http.latency.p50),
    2,
    atMost(1.5),
  ),
  row('latency p99 ms, 5×', (r) => r.stats?.fivefold?.http.latency.p99, 2),
  {
    section: 'Project: POST /api/v2/query, 30 days, V and 5V (same visitors, values, buckets; 5× the events)',
  },
  row('visit parts per site', (r) => r.query?.documentsPerSite),
  row(
    'pageviews, 5V ÷ V (time:day rows summed)',
    (r) =>
      ratio(
        r.query?.breakdowns['time:day']?.fivefold.pageviews,
        r.query?.breakdowns['time:day']?.base.pageviews,
      ),
    2,
    { target: '= 5', check: (v) => v === 5 },
  ),
  ...QUERY_DIMENSIONS.flatMap((dimension) => {
    const at = (r: RunResult) => r.query?.breakdowns[dimension];
    return [
      row(`${dimension}: documents read, V`, (r) => at(r)?.base.docsRead),
      row(`${dimension}: documents read, 5V`, (r) => at(r)?.fivefold.docsRead),
      row(
        `${dimension}: documents read, 5V ÷ V`,
        (r) => ratio(at(r)?.fivefold.docsRead, at(r)?.base.docsRead),
        2,
        {
          target: '= 1',
          check: (v) => v === 1,
        },
      ),
      row(`${dimension}: latency median ms, V`, (r) => at(r)?.base.latency.p50, 1),
      row(`${dimension}: latency median ms, 5V`, (r) => at(r)?.fivefold.latency.p50, 1),
      row(
        `${dimension}: latency median, 5V ÷ V`,
        (r) => ratio(at(r)?.fivefold.latency.p50, at(r)?.base.latency.p50),
        2,
        atMost(1.5),
      ),
      row(
        `${dimension}: CPU ms / query (reporting + engine), 5V ÷ V`,
        (r) => ratio(cpuPerQuery(at(r)?.fivefold), cpuPerQuery(at(r)?.base)),
        2,
      ),
    ];
  }),
  { section: 'Memory: highest RSS under load (MB)' },
  ...SERVICES.map((name) => row(`${name} RSS MB`, (r) => ratio(r.rss[name], MB), 0, atMost(120))),
  ...SERVICES.map((name) => row(`${name} RSS MB, idle after start`, (r) => ratio(r.rssIdle[name], MB))),
  ...['bare-enqueue', 'naive-http', 'naive-worker'].map((name) =>
    row(`${name} RSS MB`, (r) => ratio(r.rss[name], MB)),
  ),
];

function format(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const major = (r: RunResult): string => r.node.replace(/^v/, '').split('.')[0]!;

/** The rows with a figure in some result, under their sections (for a run of a few stages, `--only`). */
function measuredLines(results: RunResult[]): Line[] {
  const kept: Line[] = [];
  let section: Line | undefined;
  for (const line of LINES) {
    if ('section' in line) section = line;
    else if (results.some((r) => line.value(r) !== undefined)) {
      if (section) kept.push(section);
      section = undefined;
      kept.push(line);
    }
  }
  return kept;
}

/**
 * The one Markdown table: figures per Node version, the later ÷ the first, targets and whether each is
 * met. `measuredOnly` leaves out the rows with no figure (the stages that were not run).
 */
export function renderTable(results: RunResult[], measuredOnly = false): string {
  const two = results.length === 2;
  const header = [
    'figure',
    ...results.map((r) => `Node ${major(r)}`),
    ...(two ? [`${major(results[1]!)} ÷ ${major(results[0]!)}`] : []),
    'target',
    `met (${results.map(major).join('/')})`,
  ];
  const rows = (measuredOnly ? measuredLines(results) : LINES).map((line) => {
    if ('section' in line) return [`**${line.section}**`, ...header.slice(1).map(() => '')];
    const values = results.map((r) => line.value(r));
    const met = results.map((r, i) => {
      const v = values[i];
      if (!line.check || (line.checkOn && major(r) !== line.checkOn)) return '·';
      return v === undefined ? '?' : line.check(v, major(r)) ? 'yes' : 'no';
    });
    return [
      line.label,
      ...values.map((v) => format(v, line.digits)),
      ...(two ? [format(ratio(values[1], values[0]), 2)] : []),
      line.target ?? '',
      line.check ? met.join('/') : '',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((cells) => cells[c]!.length)));
  const render = (cells: string[]): string =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  const failures = results.flatMap((r) =>
    Object.entries(r.failures).map(
      ([stage, reason]) => `\nNode ${major(r)}, stage ${stage} failed: ${reason}`,
    ),
  );
  return [render(header), rule, ...rows.map(render), ...failures].join('\n');
}
