import type { WorkerDelta } from './backlog';
import type { HttpFigures } from './context';
import type { LatencySummary } from './load';

/** One site's answer to one POST /api/v2/query breakdown, and its timings (stages/query.ts). */
export interface QueryVolume {
  /** `meta.documents_read` of the answer: visit parts read. */
  docsRead: number;
  /** Result rows, and the pageviews summed over them (5× in the second site), as checks on the data. */
  rows: number;
  pageviews: number;
  /** From `fetch` to the whole body, one request at a time (ms). */
  latency: LatencySummary;
  /** CPU of the reporting service and of the MongoDB test engine per query (ms). */
  cpuMsPerQuery: number;
  engineCpuMsPerQuery: number;
}

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
  /** POST /api/v2/query, 30 days, per breakdown (`visit:source`, `event:page`, `time:day`): V and 5V. */
  query?: {
    documentsPerSite: number;
    /** Both sites' insertMany, ms. */
    insertMs: number;
    range: [string, string];
    breakdowns: Record<string, { base: QueryVolume; fivefold: QueryVolume }>;
  };
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
