import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { SampleList, summarise, type LatencySummary } from './percentiles';

/**
 * A small HTTP/1.1 load generator on raw keep-alive sockets: requests are serialised once, responses are
 * parsed just enough to find their end (Content-Length or a chunked terminator) and their status. On a
 * 2-core machine the generator shares the CPU with the server it measures, so it does as little as it
 * can per request (node:http's client costs about as much CPU per request as a small server).
 * Loopback only; every run is bounded by a duration or a list.
 */

export interface Target {
  host: string;
  port: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Response {
  /** 0 when the request failed without a response (refused, reset, closed). */
  status: number;
  body: Buffer | undefined;
}

type Done = (status: number, body: Buffer | undefined) => void;

const EMPTY = Buffer.alloc(0);
const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('\r\n0\r\n\r\n');

export function loopback(port: number): Target {
  return { host: '127.0.0.1', port };
}

/** The request's bytes, ready to write again and again. */
export function encodeRequest(target: Target, spec: RequestSpec): Buffer {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body, 'utf8');
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `Host: ${target.host}:${target.port}`];
  for (const [name, value] of Object.entries(spec.headers ?? {})) lines.push(`${name}: ${value}`);
  if (body) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

/** One keep-alive connection with at most one request in flight; reconnects when the server closes it. */
export class Connection {
  private socket: net.Socket | undefined;
  private pending: Buffer = EMPTY;
  private done: Done | undefined;

  constructor(
    private readonly target: Target,
    private readonly keepBody = false,
  ) {}

  get busy(): boolean {
    return this.done !== undefined;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.target.port, this.target.host);
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.pending = EMPTY;
        this.finish(0, undefined);
      });
      this.socket = socket;
    });
  }

  send(request: Buffer, done: Done): void {
    if (this.done) throw new Error('a request is already in flight on this connection');
    this.done = done;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      socket.write(request);
      return;
    }
    this.open().then(
      () => this.socket?.write(request),
      () => this.finish(0, undefined),
    );
  }

  request(request: Buffer): Promise<Response> {
    return new Promise((resolve) => this.send(request, (status, body) => resolve({ status, body })));
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private finish(status: number, body: Buffer | undefined): void {
    const done = this.done;
    this.done = undefined;
    done?.(status, body);
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const headerEnd = this.pending.indexOf(HEADER_END);
    if (headerEnd === -1) return;
    const head = this.pending.toString('latin1', 0, headerEnd).toLowerCase();
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
    let end: number;
    if (length) {
      end = headerEnd + 4 + Number(length[1]);
      if (this.pending.length < end) return;
    } else if (head.includes('\r\ntransfer-encoding: chunked')) {
      const at = this.pending.indexOf(CHUNKED_END, headerEnd + 2);
      if (at === -1) return;
      end = at + CHUNKED_END.length;
    } else {
      end = headerEnd + 4;
    }
    const body = this.keepBody && length ? Buffer.from(this.pending.subarray(headerEnd + 4, end)) : undefined;
    this.pending = end === this.pending.length ? EMPTY : this.pending.subarray(end);
    if (/\r\nconnection:\s*close/.test(head)) {
      this.socket?.destroy();
      this.socket = undefined;
    }
    this.finish(status, body);
  }
}

async function openConnections(target: Target, count: number, keepBody = false): Promise<Connection[]> {
  const connections = Array.from({ length: count }, () => new Connection(target, keepBody));
  await Promise.all(connections.map((c) => c.open()));
  return connections;
}

export interface LoadResult {
  /** Requests started in the measured window that got a response. */
  requests: number;
  seconds: number;
  /** Responses per second over the measured window (any status). */
  rate: number;
  /** Latency from the moment the request was written (ms). */
  latency: LatencySummary;
  statuses: Record<string, number>;
  /** Measured requests that did not get a 2xx. */
  errors: number;
}

function countStatus(statuses: Record<string, number>, status: number): void {
  const key = status === 0 ? 'failed' : String(status);
  statuses[key] = (statuses[key] ?? 0) + 1;
}

function non2xx(statuses: Record<string, number>): number {
  return Object.entries(statuses)
    .filter(([status]) => !status.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** Called when the measured window opens and closes (after the warm-up), e.g. to read CPU counters. */
export interface WindowHooks {
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

/** Fires the hooks on time; the function it returns fires any hook not fired yet (in order) and stops. */
function scheduleWindow(hooks: WindowHooks, warmupMs: number, durationMs: number): () => void {
  let fired = 0;
  const fire = (upTo: number): void => {
    while (fired < upTo) {
      fired += 1;
      if (fired === 1) hooks.onWindowStart?.();
      else hooks.onWindowEnd?.();
    }
  };
  const timers = [setTimeout(() => fire(1), warmupMs), setTimeout(() => fire(2), warmupMs + durationMs)];
  return () => {
    timers.forEach((timer) => clearTimeout(timer));
    fire(2);
  };
}

export interface ClosedLoopOptions extends WindowHooks {
  target: Target;
  /** Sent in turn; each connection takes the next one. */
  requests: Buffer[];
  connections: number;
  warmupMs: number;
  durationMs: number;
}

/** `connections` clients, each sending its next request as soon as the previous one is answered. */
export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const connections = await openConnections(options.target, options.connections);
  const latencies = new SampleList();
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  const closeWindow = scheduleWindow(options, options.warmupMs, options.durationMs);
  let next = 0;
  try {
    await Promise.all(
      connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            const loop = (): void => {
              const sentAt = performance.now();
              if (sentAt >= measureTo) {
                resolve();
                return;
              }
              const request = options.requests[next++ % options.requests.length]!;
              connection.send(request, (status) => {
                if (sentAt >= measureFrom) {
                  latencies.push(performance.now() - sentAt);
                  countStatus(statuses, status);
                }
                if (status === 0) setTimeout(loop, 10);
                else loop();
              });
            };
            loop();
          }),
      ),
    );
  } finally {
    closeWindow();
    for (const connection of connections) connection.close();
  }
  const seconds = options.durationMs / 1000;
  return {
    requests: latencies.length,
    seconds,
    rate: latencies.length / seconds,
    latency: summarise(latencies.values()),
    statuses,
    errors: non2xx(statuses),
  };
}

export interface OpenLoopOptions extends WindowHooks {
  target: Target;
  requests: Buffer[];
  ratePerSecond: number;
  warmupMs: number;
  durationMs: number;
  /** Connections available; a request due while all are busy waits for one (and the wait counts). */
  maxConnections: number;
  /** Called for each measured response with its status, when it was written and when it was answered. */
  onResponse?: (status: number, sentAt: number, answeredAt: number) => void;
}

export interface OpenLoopResult extends LoadResult {
  /** Latency from the scheduled send time: includes any wait for a free connection (no coordinated omission). */
  latencyFromSchedule: LatencySummary;
  /** Measured requests that could not be sent at their time because every connection was busy. */
  queued: number;
}

/** Requests at a fixed rate whatever the answers do (a schedule, not a feedback loop). */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const connections = await openConnections(options.target, options.maxConnections);
  const idle = [...connections];
  const backlog: number[] = [];
  const latencies = new SampleList();
  const fromSchedule = new SampleList();
  const statuses: Record<string, number> = {};
  const interval = 1000 / options.ratePerSecond;
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const measureTo = measureFrom + options.durationMs;
  let due = started;
  let next = 0;
  let queued = 0;
  let inFlight = 0;
  const closeWindow = scheduleWindow(options, options.warmupMs, options.durationMs);

  return new Promise<OpenLoopResult>((resolve) => {
    const dispatch = (scheduledAt: number, connection: Connection): void => {
      const request = options.requests[next++ % options.requests.length]!;
      const sentAt = performance.now();
      inFlight += 1;
      connection.send(request, (status) => {
        inFlight -= 1;
        const answeredAt = performance.now();
        if (scheduledAt >= measureFrom) {
          latencies.push(answeredAt - sentAt);
          fromSchedule.push(answeredAt - scheduledAt);
          countStatus(statuses, status);
          options.onResponse?.(status, sentAt, answeredAt);
        }
        const waiting = backlog.shift();
        if (waiting !== undefined) dispatch(waiting, connection);
        else idle.push(connection);
        maybeFinish();
      });
    };
    let ticking = true;
    const maybeFinish = (): void => {
      if (ticking || inFlight > 0 || backlog.length > 0) return;
      closeWindow();
      for (const connection of connections) connection.close();
      const seconds = options.durationMs / 1000;
      resolve({
        requests: latencies.length,
        seconds,
        rate: latencies.length / seconds,
        latency: summarise(latencies.values()),
        latencyFromSchedule: summarise(fromSchedule.values()),
        statuses,
        errors: non2xx(statuses),
        queued,
      });
    };
    const tick = (): void => {
      const now = performance.now();
      while (due <= now && due < measureTo) {
        const connection = idle.pop();
        if (connection) dispatch(due, connection);
        else {
          backlog.push(due);
          if (due >= measureFrom) queued += 1;
        }
        due += interval;
      }
      if (due < measureTo) setTimeout(tick, Math.max(0, Math.min(1, due - performance.now())));
      else {
        ticking = false;
        maybeFinish();
      }
    };
    tick();
  });
}

/** Sends every request once over `connections` connections; answers in request order. */
export async function sendAll(
  target: Target,
  requests: Buffer[],
  connections: number,
  keepBody = false,
): Promise<Response[]> {
  const pool = await openConnections(target, Math.max(1, Math.min(connections, requests.length)), keepBody);
  const responses: Response[] = new Array<Response>(requests.length);
  let next = 0;
  try {
    await Promise.all(
      pool.map(async (connection) => {
        while (next < requests.length) {
          const index = next++;
          responses[index] = await connection.request(requests[index]!);
        }
      }),
    );
  } finally {
    for (const connection of pool) connection.close();
  }
  return responses;
}
