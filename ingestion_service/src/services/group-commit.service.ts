import {
  AppError,
  JOB_MAX_EVENTS,
  redisUnavailable,
  type AcceptedRequest,
  type IngestEventsJob,
} from '@analytics/common';
import type { EventQueue } from '../repositories/event-queue.repository';
import type { IpWindow, RateLimitClaim, RateLimits } from './rate-limit.service';

/** What a committed request learns: where its client address stands, for the `RateLimit` headers. */
export interface CommitReceipt {
  ip?: IpWindow;
}

export interface GroupCommitOptions<R = AcceptedRequest> {
  limits: RateLimits;
  /** Where the events' jobs go (packed by packJobs); or `store` for other kinds of requests. */
  queue?: EventQueue;
  /** Stores the requests of one flush in Redis, all or none (the metrics queue uses this). */
  store?: (requests: R[]) => Promise<void>;
  /** A request is answered 503 when its commit has not finished within this time. */
  deadlineMs: number;
  /** Flushes under way at once; the next one starts while the last waits for Redis. */
  maxInFlight?: number;
  /** Requests per flush: bounds the script's arguments and a flush's latency. */
  maxRequestsPerFlush?: number;
}

interface Pending<R> {
  claim: RateLimitClaim;
  request: R;
  resolve: (receipt: CommitReceipt) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  sent: boolean;
  timer: NodeJS.Timeout;
}

/**
 * Group commit for the requests ingestion accepts: those that arrive while earlier ones are being
 * written go to Redis together, in two round trips per flush (one script call counts every rate
 * limit, one call stores the jobs) instead of three per request. Each request's events stay together
 * in one job, and a request is answered only after Redis has acknowledged its job (or 429/503).
 * Under light load a flush holds one request and starts on the next turn of the event loop, so
 * batching adds no wait; under heavy load flushes grow, and fewer, larger jobs also make the
 * processor's work per event smaller.
 */
export class GroupCommit<R = AcceptedRequest> {
  private pending: Pending<R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxInFlight: number;
  private readonly maxRequestsPerFlush: number;
  private readonly store: (requests: R[]) => Promise<void>;

  constructor(private readonly options: GroupCommitOptions<R>) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxRequestsPerFlush = options.maxRequestsPerFlush ?? 1000;
    const { queue, store } = options;
    if (store) this.store = store;
    else if (queue)
      this.store = (requests) => queue.enqueue(packJobs(requests as unknown as AcceptedRequest[]));
    else throw new Error('a group commit needs a queue or a store');
  }

  /** Resolves when the request's events are in Redis; rejects with a 429 or 503 AppError. */
  commit(claim: RateLimitClaim, request: R): Promise<CommitReceipt> {
    return new Promise<CommitReceipt>((resolve, reject) => {
      const entry: Pending<R> = {
        claim,
        request,
        resolve,
        reject,
        settled: false,
        sent: false,
        timer: setTimeout(() => this.expire(entry), this.options.deadlineMs),
      };
      this.pending.push(entry);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // The next turn, not now: requests whose bodies arrived in the same turn join this flush.
    setImmediate(() => {
      this.scheduled = false;
      this.flush().catch(() => undefined);
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.maxRequestsPerFlush);
    for (const entry of batch) entry.sent = true;
    this.inFlight += 1;
    this.schedule();
    try {
      const verdicts = await this.options.limits.check(batch.map((entry) => entry.claim));
      const allowed: { entry: Pending<R>; receipt: CommitReceipt }[] = [];
      batch.forEach((entry, i) => {
        const verdict = verdicts[i]!;
        if (verdict.allowed) allowed.push({ entry, receipt: { ip: verdict.ip } });
        else settle(entry, rateLimited(verdict.retryAfterMs, verdict.limit));
      });
      const live = allowed.filter(({ entry }) => !entry.settled);
      if (live.length > 0) {
        await this.store(live.map(({ entry }) => entry.request));
        for (const { entry, receipt } of live) settle(entry, undefined, receipt);
      }
    } catch (error) {
      const failure = error instanceof AppError ? error : redisUnavailable(error);
      for (const entry of batch) settle(entry, failure);
    } finally {
      this.inFlight -= 1;
      this.schedule();
    }
  }

  /** Past its deadline: a request not yet sent is dropped (never enqueued), one sent may still land. */
  private expire(entry: Pending<R>): void {
    if (entry.settled) return;
    if (!entry.sent) this.pending = this.pending.filter((other) => other !== entry);
    settle(entry, redisUnavailable(new Error(`no answer from Redis within ${this.options.deadlineMs} ms`)));
  }
}

function settle<R>(entry: Pending<R>, error: unknown, receipt: CommitReceipt = {}): void {
  if (entry.settled) return;
  entry.settled = true;
  clearTimeout(entry.timer);
  if (error === undefined) entry.resolve(receipt);
  else entry.reject(error);
}

/** Requests in order, as few jobs as fit: a job holds whole requests and at most JOB_MAX_EVENTS events. */
export function packJobs(requests: readonly AcceptedRequest[]): IngestEventsJob[] {
  const jobs: IngestEventsJob[] = [];
  let current: AcceptedRequest[] = [];
  let events = 0;
  for (const request of requests) {
    if (current.length > 0 && events + request.events.length > JOB_MAX_EVENTS) {
      jobs.push({ v: 2, requests: current });
      current = [];
      events = 0;
    }
    current.push(request);
    events += request.events.length;
  }
  if (current.length > 0) jobs.push({ v: 2, requests: current });
  return jobs;
}

export function rateLimited(retryAfterMs: number, limit: 'ip' | 'site'): AppError {
  const what = limit === 'ip' ? 'requests from this address' : 'events for this site';
  return new AppError('rate-limited', `Too many ${what}; retry after the time in Retry-After`, {
    status: 429,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}
