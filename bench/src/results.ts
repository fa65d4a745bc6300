import type { LatencySummary } from './load/percentiles';
import type { WorkerDelta } from './support/worker-host';

/** One HTTP measurement: throughput, latency, errors, and who used the CPU meanwhile. */
export interface HttpFigures {
  connections: number;
  /** Responses per second in the measured window. */
  rate: number;
  /** Events per second (batches: rate × batch size). */
  eventsPerSecond: number;
  latency: LatencySummary;
  /** Open loop only: latency from the scheduled send time. */
  latencyFromSchedule?: LatencySummary;
  /** Open loop only: the rate asked for. */
  targetRate?: number;
  /** Open loop only: requests that had to wait for a free connection. */
  queued?: number;
  errors: number;
  statuses: Record<string, number>;
  /** CPU cores used on average in the window: the server, redis-server, the load generator. */
  cpuCores: Record<string, number>;
  /** Server CPU per response (µs): steadier than req/s on a shared machine. */
  serverCpuMicrosPerRequest: number;
  /** redis-server CPU per response (µs). */
  redisCpuMicrosPerRequest: number;
  /** The server's own event-loop delay in the window, from its GET /health (services only; ms). */
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
  /** Events per second of the background load (re-deliveries of stored events: see docs). */
  rate: number;
  seconds: number;
  /** Sequential probes (new events) timed from their 202 until /stats counts them (exact). */
  probes: LatencySummary;
  loadErrors: number;
  /** The processor meanwhile: round trips and engine time per 1,000 events. */
  processor: WorkerDelta;
  /** Only new events at the same rate: the test engine's insert cost sets the pace (an estimate; see docs). */
  newEvents?: {
    rate: number;
    events: number;
    seconds: number;
    /** From each event's 202 until /stats counts as many events as had been accepted up to it (FIFO). */
    fifo: LatencySummary;
    /** Events still not counted when the bench stopped waiting. */
    neverSeen: number;
    loadErrors: number;
    processor: WorkerDelta;
  };
}

export interface RunResult {
  node: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  mongo: 'test-engine' | 'external';
  /** bareEnqueueOpen: the enqueue ceiling in an open loop at half its maximum. */
  limits?: { bare?: HttpFigures; bareEnqueue?: HttpFigures; bareEnqueueOpen?: HttpFigures };
  /** httpNoEnqueue: the naive server without its `queue.add` (Express + Joi + 202). */
  naive?: { http?: HttpFigures; httpNoEnqueue?: HttpFigures; worker?: WorkerDelta };
  ingestion?: { event?: HttpFigures; eventOpen?: HttpFigures; events?: HttpFigures };
  /** Backlogs: new single-event jobs, new 100-event jobs, re-delivered (already stored) 100-event jobs. */
  processor?: { singles?: WorkerDelta; batches?: WorkerDelta; resent?: WorkerDelta };
  stats?: { base?: StatsVolume; fivefold?: StatsVolume };
  freshness?: FreshnessFigures;
  /** Highest RSS seen per process while it was under load (bytes). */
  rss: Record<string, number>;
  /** RSS of each process right after it was ready, before any load (bytes; first start of each). */
  rssIdle: Record<string, number>;
  /** os.loadavg() (1, 5, 15 min) when the run started and ended: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  /** Stages that failed, with the reason. */
  failures: Record<string, string>;
}
