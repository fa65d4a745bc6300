import type { WorkerDelta } from './backlog';
import type { HttpFigures } from './context';
import type { LatencySummary } from './load';

export interface StatsVolume {
  events: number;
  /** Rollup documents matched by the /stats pipeline's $match. */
  docsRead: number;
  /** total_views of the response, as a check that the data is there. */
  totalViews: number;
  http: HttpFigures;
}

/** One Node version's run, written as JSON by its child process (`--out` keeps them all). */
export interface RunResult {
  node: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  mongo: 'test-engine' | 'external';
  /** bareEnqueueOpen: the enqueue ceiling at half its maximum rate. */
  limits?: { bare?: HttpFigures; bareEnqueue?: HttpFigures; bareEnqueueOpen?: HttpFigures };
  /** httpNoEnqueue: the naive server without its `queue.add` (Express + Joi + 202). */
  naive?: { http?: HttpFigures; httpNoEnqueue?: HttpFigures; worker?: WorkerDelta };
  ingestion?: { event?: HttpFigures; eventOpen?: HttpFigures; events?: HttpFigures };
  /** Backlogs: new single-event jobs, new 100-event jobs, re-delivered (already stored) 100-event jobs. */
  processor?: { singles?: WorkerDelta; batches?: WorkerDelta; resent?: WorkerDelta };
  /** 1,600 events sent at once to the running services (stages/drain.ts). */
  drain?: {
    events: number;
    /** From the first request sent to the last 202, and from the last 202 to an empty queue (ms). */
    sendMs: number;
    drainMs: number;
    rawEventsStored: number;
    /** Paths and users whose hourly or daily rollups differ from what was sent. */
    rollupMismatches: number;
    processor: WorkerDelta;
    /** CPU seconds of the MongoDB test engine meanwhile. */
    engineCpuSeconds: number;
  };
  stats?: { base?: StatsVolume; fivefold?: StatsVolume };
  /** Probes timed from their 202 until /stats counts them; new events only: FIFO estimate (docs). */
  freshness?: {
    rate: number;
    probes: LatencySummary;
    processor: WorkerDelta;
    newEvents?: { events: number; fifo: LatencySummary; neverSeen: number; processor: WorkerDelta };
  };
  /** Highest RSS per process while it was up, and right after it was ready (bytes; first start of each). */
  rss: Record<string, number>;
  rssIdle: Record<string, number>;
  /** os.loadavg() when the run started and ended: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  /** Stages that failed, with the reason. */
  failures: Record<string, string>;
}
