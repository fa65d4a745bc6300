import type { LatencySummary } from './load';
import type { WorkerDelta } from './worker-host';

/** One HTTP measurement: throughput, latency, errors, and who used the CPU meanwhile. */
export interface HttpFigures {
  connections: number;
  /** Open loop only: the rate asked of autocannon (`overallRate`). */
  targetRate?: number;
  /** Responses per second in the measured window. */
  rate: number;
  /** Events per second (batches: rate × batch size). */
  eventsPerSecond: number;
  latency: LatencySummary;
  errors: number;
  statuses: Record<string, number>;
  /** CPU cores used on average in the window: the server, redis-server, the load generator (this process). */
  cpuCores: Record<string, number>;
  /** Server CPU per response (µs): steadier than req/s on a shared machine. */
  serverCpuMicrosPerRequest: number;
  redisCpuMicrosPerRequest: number;
  /** The server's event-loop delay over the window, from its GET /health (services only; ms). */
  eventLoopDelay?: { p50: number; p99: number; max: number };
}

export interface StatsVolume {
  events: number;
  /** Rollup documents matched by the /stats pipeline's $match. */
  docsRead: number;
  /** total_views of the response, as a check that the data is there. */
  totalViews: number;
  http: HttpFigures;
}

export interface FreshnessFigures {
  rate: number;
  /** Sequential probes (new events) timed from their 202 until /stats counts them. */
  probes: LatencySummary;
  loadErrors: number;
  processor: WorkerDelta;
  /** New events only at the same rate, timed FIFO from each 202 until /stats counts as many (see docs). */
  newEvents?: { events: number; fifo: LatencySummary; neverSeen: number; processor: WorkerDelta };
}

/** A backlog sent at once to running services, timed from the last 202 until the queue is empty. */
export interface DrainFigures {
  events: number;
  /** From the first request sent to the last 202 (ms). */
  sendMs: number;
  /** From the last 202 until no job is waiting, active or delayed (ms). */
  drainMs: number;
  rawEventsStored: number;
  /** Per path and period (hour, day) view sums and user sets that differ from what was sent. */
  rollupMismatches: number;
  processorCpuMicrosPerEvent: number;
  /** CPU seconds of the MongoDB test engine during the drain. */
  engineCpuSeconds: number;
}

export interface RunResult {
  node: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  mongo: 'test-engine' | 'external';
  /** bareEnqueueOpen: the enqueue ceiling at half its maximum, open loop. */
  limits?: { bare?: HttpFigures; bareEnqueue?: HttpFigures; bareEnqueueOpen?: HttpFigures };
  /** httpNoEnqueue: the naive server without its `queue.add` (Express + Joi + 202). */
  naive?: { http?: HttpFigures; httpNoEnqueue?: HttpFigures; worker?: WorkerDelta };
  ingestion?: { event?: HttpFigures; eventOpen?: HttpFigures; events?: HttpFigures };
  /** Backlogs: new single-event jobs, new 100-event jobs, re-delivered (already stored) 100-event jobs. */
  processor?: { singles?: WorkerDelta; batches?: WorkerDelta; resent?: WorkerDelta };
  drain?: DrainFigures;
  stats?: { base?: StatsVolume; fivefold?: StatsVolume };
  freshness?: FreshnessFigures;
  /** Highest RSS per process while it was up (bytes). */
  rss: Record<string, number>;
  /** RSS of each process right after it was ready (bytes; first start of each). */
  rssIdle: Record<string, number>;
  /** os.loadavg() when the run started and ended: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  /** Stages that failed, with the reason. */
  failures: Record<string, string>;
}
