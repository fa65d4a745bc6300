import type { RunResult } from './results';
import type { WorkerDelta } from './support/worker-host';

/** One line of the report: a figure per Node version, and optionally a target checked on each. */
interface Row {
  label: string;
  value: (r: RunResult) => number | undefined;
  digits?: number;
  target?: string;
  check?: (v: number) => boolean;
  /** Check only on this Node major (e.g. the ceiling ratio is a Node 24 target). */
  checkOn?: string;
}

type Line = Row | { section: string };

const MB = 1024 * 1024;

/** Each group-committed write is five round trips, two of them aggregates. */
function eventsPerWrite(delta: WorkerDelta | undefined): number | undefined {
  const writes = (delta?.commandsByName.aggregate ?? 0) / 2;
  return delta && writes > 0 ? delta.events / writes : undefined;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

const LINES: Line[] = [
  { section: 'Limits (one process; closed loop)' },
  { label: 'bare node:http, parse + 202: req/s', value: (r) => r.limits?.bare?.rate },
  { label: 'bare node:http, parse + 202: p99 ms', value: (r) => r.limits?.bare?.latency.p99, digits: 2 },
  {
    label: 'bare node:http, parse + 202: CPU µs / request',
    value: (r) => r.limits?.bare?.serverCpuMicrosPerRequest,
  },
  { label: 'bare + await queue.add: req/s', value: (r) => r.limits?.bareEnqueue?.rate },
  { label: 'bare + await queue.add: p99 ms', value: (r) => r.limits?.bareEnqueue?.latency.p99, digits: 2 },
  {
    label: 'bare + await queue.add: CPU µs / request',
    value: (r) => r.limits?.bareEnqueue?.serverCpuMicrosPerRequest,
  },
  {
    label: 'bare + await queue.add: redis-server CPU µs / request',
    value: (r) => r.limits?.bareEnqueue?.redisCpuMicrosPerRequest,
  },
  {
    label: 'bare + queue.add, open loop at 50 %: p99 ms (from schedule)',
    value: (r) => r.limits?.bareEnqueueOpen?.latencyFromSchedule?.p99,
    digits: 2,
  },
  { section: 'Naive peer (Express + Joi + queue.add; create + $inc per job)' },
  { label: 'naive POST /event: req/s', value: (r) => r.naive?.http?.rate },
  { label: 'naive POST /event: p99 ms', value: (r) => r.naive?.http?.latency.p99, digits: 2 },
  { label: 'naive POST /event: CPU µs / request', value: (r) => r.naive?.http?.serverCpuMicrosPerRequest },
  {
    label: 'naive without its queue.add (Express + Joi + 202): req/s',
    value: (r) => r.naive?.httpNoEnqueue?.rate,
  },
  {
    label: 'naive without its queue.add: CPU µs / request',
    value: (r) => r.naive?.httpNoEnqueue?.serverCpuMicrosPerRequest,
  },
  {
    label: 'naive without its queue.add ÷ naive peer (best an Express + Joi server can reach)',
    value: (r) => ratio(r.naive?.httpNoEnqueue?.rate, r.naive?.http?.rate),
    digits: 2,
  },
  {
    label: 'naive worker: MongoDB round trips / 1,000 events',
    value: (r) => r.naive?.worker?.roundTripsPer1000Events,
  },
  { label: 'naive worker: CPU µs / event', value: (r) => r.naive?.worker?.cpuMicrosPerEvent },
  { section: 'Project: ingestion' },
  { label: 'POST /event closed loop: req/s', value: (r) => r.ingestion?.event?.rate },
  { label: 'POST /event closed loop: p50 ms', value: (r) => r.ingestion?.event?.latency.p50, digits: 2 },
  { label: 'POST /event closed loop: p99 ms', value: (r) => r.ingestion?.event?.latency.p99, digits: 2 },
  {
    label: 'POST /event closed loop: ingestion CPU (cores)',
    value: (r) => r.ingestion?.event?.cpuCores.server,
    digits: 2,
  },
  {
    label: 'POST /event ÷ naive peer',
    value: (r) => ratio(r.ingestion?.event?.rate, r.naive?.http?.rate),
    digits: 2,
    target: '≥ 1.5',
    check: (v) => v >= 1.5,
  },
  {
    label: 'POST /event ÷ bare + queue.add ceiling',
    value: (r) => ratio(r.ingestion?.event?.rate, r.limits?.bareEnqueue?.rate),
    digits: 2,
    target: '≥ 0.5 (Node 24)',
    check: (v) => v >= 0.5,
    checkOn: '24',
  },
  {
    label: 'POST /event ÷ naive without its queue.add',
    value: (r) => ratio(r.ingestion?.event?.rate, r.naive?.httpNoEnqueue?.rate),
    digits: 2,
  },
  {
    label: 'POST /event ÷ bare parse + 202',
    value: (r) => ratio(r.ingestion?.event?.rate, r.limits?.bare?.rate),
    digits: 2,
  },
  { label: 'POST /event: CPU µs / request', value: (r) => r.ingestion?.event?.serverCpuMicrosPerRequest },
  {
    label: 'POST /event: redis-server CPU µs / request',
    value: (r) => r.ingestion?.event?.redisCpuMicrosPerRequest,
  },
  {
    label: 'POST /event CPU ÷ naive peer CPU (per request)',
    value: (r) =>
      ratio(r.ingestion?.event?.serverCpuMicrosPerRequest, r.naive?.http?.serverCpuMicrosPerRequest),
    digits: 2,
  },
  { label: 'open loop at 50 % of max: req/s', value: (r) => r.ingestion?.eventOpen?.rate },
  { label: 'open loop: p50 ms', value: (r) => r.ingestion?.eventOpen?.latency.p50, digits: 2 },
  { label: 'open loop: p99 ms (from send)', value: (r) => r.ingestion?.eventOpen?.latency.p99, digits: 2 },
  {
    label: 'open loop: p99 ms (from schedule)',
    value: (r) => r.ingestion?.eventOpen?.latencyFromSchedule?.p99,
    digits: 2,
    target: '≤ 10',
    check: (v) => v <= 10,
  },
  {
    label: 'open loop: ingestion CPU (cores)',
    value: (r) => r.ingestion?.eventOpen?.cpuCores.server,
    digits: 2,
  },
  {
    label: 'open loop: CPU µs / request',
    value: (r) => r.ingestion?.eventOpen?.serverCpuMicrosPerRequest,
  },
  {
    label: 'open loop: ingestion event-loop delay p99 ms',
    value: (r) => r.ingestion?.eventOpen?.eventLoopDelay?.p99,
    digits: 1,
  },
  {
    label: 'open loop: ingestion event-loop delay max ms',
    value: (r) => r.ingestion?.eventOpen?.eventLoopDelay?.max,
    digits: 1,
  },
  {
    label: 'POST /events, 100-event batches: events/s',
    value: (r) => r.ingestion?.events?.eventsPerSecond,
    target: '≥ 50,000',
    check: (v) => v >= 50_000,
  },
  { label: 'POST /events: p99 ms per batch', value: (r) => r.ingestion?.events?.latency.p99, digits: 2 },
  {
    label: 'POST /events: CPU µs / event',
    value: (r) => {
      const events = r.ingestion?.events;
      return events && events.eventsPerSecond > 0
        ? (events.serverCpuMicrosPerRequest * events.rate) / events.eventsPerSecond
        : undefined;
    },
    digits: 1,
  },
  { section: 'Project: processor (a backlog drained at full speed; engine = MongoDB test engine)' },
  {
    label: '100-event jobs, re-delivered: round trips / 1,000 events',
    value: (r) => r.processor?.resent?.roundTripsPer1000Events,
    digits: 1,
    target: '≤ 5',
    check: (v) => v <= 5,
  },
  {
    label: '100-event jobs, re-delivered: CPU µs / event',
    value: (r) => r.processor?.resent?.cpuMicrosPerEvent,
    digits: 1,
    target: '≤ 50',
    check: (v) => v <= 50,
  },
  {
    label: '100-event jobs, re-delivered: events per write',
    value: (r) => eventsPerWrite(r.processor?.resent),
  },
  {
    label: '100-event jobs, new: round trips / 1,000 events',
    value: (r) => r.processor?.batches?.roundTripsPer1000Events,
    digits: 1,
  },
  {
    label: '100-event jobs, new: CPU µs / event',
    value: (r) => r.processor?.batches?.cpuMicrosPerEvent,
    digits: 1,
  },
  {
    label: '100-event jobs, new: engine ms / 1,000 events',
    value: (r) => r.processor?.batches?.dbMillisPer1000Events,
  },
  {
    label: '1-event jobs, new: round trips / 1,000 events',
    value: (r) => r.processor?.singles?.roundTripsPer1000Events,
    digits: 1,
  },
  {
    label: '1-event jobs, new: CPU µs / event',
    value: (r) => r.processor?.singles?.cpuMicrosPerEvent,
    digits: 1,
  },
  { section: 'Project: freshness (202 → counted by /stats) at 200 events/s' },
  { label: 'probes: p50 ms', value: (r) => r.freshness?.probes.p50 },
  {
    label: 'probes: p99 ms',
    value: (r) => r.freshness?.probes.p99,
    target: '≤ 2,000',
    check: (v) => v <= 2000,
  },
  { label: 'probes: count', value: (r) => r.freshness?.probes.count },
  {
    label: 'processor meanwhile: round trips / 1,000 events',
    value: (r) => r.freshness?.processor.roundTripsPer1000Events,
    digits: 1,
  },
  { label: 'new events only: p50 ms (FIFO estimate)', value: (r) => r.freshness?.newEvents?.fifo.p50 },
  { label: 'new events only: p99 ms (FIFO estimate)', value: (r) => r.freshness?.newEvents?.fifo.p99 },
  {
    label: 'new events only: engine ms / 1,000 events',
    value: (r) => r.freshness?.newEvents?.processor.dbMillisPer1000Events,
  },
  { section: 'Project: GET /stats, same paths/users/hours, 5× the events' },
  { label: 'documents read, 1×', value: (r) => r.stats?.base?.docsRead },
  {
    label: 'documents read, 5× ÷ 1×',
    value: (r) => ratio(r.stats?.fivefold?.docsRead, r.stats?.base?.docsRead),
    digits: 2,
    target: '= 1',
    check: (v) => v === 1,
  },
  { label: 'latency p50 ms, 1×', value: (r) => r.stats?.base?.http.latency.p50, digits: 2 },
  { label: 'latency p50 ms, 5×', value: (r) => r.stats?.fivefold?.http.latency.p50, digits: 2 },
  {
    label: 'latency p50, 5× ÷ 1×',
    value: (r) => ratio(r.stats?.fivefold?.http.latency.p50, r.stats?.base?.http.latency.p50),
    digits: 2,
    target: '≤ 1.5',
    check: (v) => v <= 1.5,
  },
  { label: 'latency p99 ms, 5×', value: (r) => r.stats?.fivefold?.http.latency.p99, digits: 2 },
  { section: 'Memory: highest RSS under load (MB)' },
  ...(['ingestion_service', 'processor_service', 'reporting_service', 'cron_service'] as const).map(
    (name): Row => ({
      label: `${name} RSS MB`,
      value: (r) => (r.rss[name] === undefined ? undefined : r.rss[name] / MB),
      target: '≤ 150',
      check: (v) => v <= 150,
    }),
  ),
  ...(['ingestion_service', 'processor_service', 'reporting_service', 'cron_service'] as const).map(
    (name): Row => ({
      label: `${name} RSS MB, idle after start`,
      value: (r) => (r.rssIdle?.[name] === undefined ? undefined : r.rssIdle[name] / MB),
    }),
  ),
  ...(['bare-enqueue', 'naive-http', 'naive-worker'] as const).map((name): Row => ({
    label: `${name} RSS MB`,
    value: (r) => (r.rss[name] === undefined ? undefined : r.rss[name] / MB),
  })),
];

function format(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function major(r: RunResult): string {
  return r.node.replace(/^v/, '').split('.')[0]!;
}

/** The one table: figures per Node version, the later version ÷ the first, targets and whether each is met. */
export function renderTable(results: RunResult[]): string {
  const two = results.length === 2;
  const header = [
    'figure',
    ...results.map((r) => `Node ${major(r)}`),
    ...(two ? [`${major(results[1]!)} ÷ ${major(results[0]!)}`] : []),
    'target',
    `met (${results.map(major).join('/')})`,
  ];
  const rows: string[][] = [];
  for (const line of LINES) {
    if ('section' in line) {
      rows.push([`**${line.section}**`, ...header.slice(1).map(() => '')]);
      continue;
    }
    const values = results.map((r) => line.value(r));
    const met = line.check
      ? results
          .map((r, i) => {
            const v = values[i];
            if (line.checkOn && major(r) !== line.checkOn) return '·';
            return v === undefined ? '?' : line.check!(v) ? 'yes' : 'no';
          })
          .join('/')
      : '';
    rows.push([
      line.label,
      ...values.map((v) => format(v, line.digits)),
      ...(two ? [format(ratio(values[1], values[0]), 2)] : []),
      line.target ?? '',
      met,
    ]);
  }
  const failures = results.flatMap((r) =>
    Object.entries(r.failures).map(([stage, reason]) => `Node ${major(r)}, stage ${stage} failed: ${reason}`),
  );
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const render = (cells: string[]): string =>
    `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const lines = [
    render(header),
    `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map(render),
  ];
  return [...lines, ...failures.map((f) => `\n${f}`)].join('\n');
}
