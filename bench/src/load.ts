import http from 'node:http';
import autocannon from 'autocannon';

/**
 * HTTP load through autocannon (closed loop, or a fixed rate with its `overallRate`), a paced open loop
 * (runPacedLoad, which autocannon cannot do), and plain `fetch` for the bench's own requests (filling
 * queues, probes, /stats reads). Loopback only.
 */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles by rank on the sorted samples (no histogram buckets, so sub-millisecond values stay exact). */
export function summarise(samples: number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sorted.length > 0 ? sum / sorted.length : 0,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
  };
}

export interface LoadOptions {
  port: number;
  requests: RequestSpec[];
  connections: number;
  durationMs: number;
  /**
   * Fixed rate: requests per second over all connections. autocannon gives each connection a quota per
   * second that it sends as fast as answers allow, then waits for the next second (mcollina/autocannon#174).
   */
  overallRate?: number;
  /**
   * Open loop, evenly paced (runPacedLoad): requests per second, each sent at its scheduled time whether
   * or not earlier ones were answered, on at most `connections` keep-alive sockets.
   */
  pacedRate?: number;
  /** Called for every response, with `performance.now()` when it arrived. */
  onResponse?: (status: number, at: number) => void;
}

export interface LoadResult {
  /** Responses received in the window. */
  requests: number;
  seconds: number;
  /** Responses per second. */
  rate: number;
  /** From each request's write to its response (ms), every response, as autocannon times it. */
  latency: LatencySummary;
  /** Connection errors and timeouts. */
  errors: number;
  statuses: Record<string, number>;
  /** Paced loads: how late the generator issued each request after it was due (ms). */
  sendLateness?: LatencySummary;
}

/** One autocannon run; latencies are kept whole (autocannon's own histogram rounds to 1 ms). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.pacedRate !== undefined) return runPacedLoad({ ...options, pacedRate: options.pacedRate });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const settings: autocannon.Options = {
      url: `http://127.0.0.1:${options.port}`,
      connections: options.connections,
      duration: options.durationMs / 1000,
      // autocannon stops on its sampling tick: 100 ms keeps the window within 0.1 s of the duration.
      sampleInt: 100,
      overallRate: options.overallRate,
      // Latencies are recorded below, raw: autocannon's optional correction fills its own histogram only.
      ...(options.overallRate !== undefined && { ignoreCoordinatedOmission: true }),
      requests: options.requests,
    };
    const instance = autocannon(settings, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      options.onResponse?.(statusCode, performance.now());
    });
  });
  return loadResult(started, latencies, result.errors + result.timeouts, statuses);
}

/** A paced request not answered within this counts as an error (autocannon's default timeout). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Open loop, evenly paced, which autocannon cannot do (its fixed rate sends each second's quota in a burst
 * at the start of the second): request i is due at `start + i / rate` and is issued when the generator
 * next wakes (a timer, so within about a millisecond), whether or not earlier ones were answered. Its
 * latency is timed from when it was issued: a request that finds all `connections` sockets busy waits in
 * the agent's queue, and that wait counts. The generator's own lateness (issued − due; its timer's
 * granularity and any pause of its own) is reported apart, in `sendLateness`, so that it neither hides
 * nor inflates the server's figures.
 */
export async function runPacedLoad(options: LoadOptions & { pacedRate: number }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const lateness: number[] = [];
  const statuses: Record<string, number> = {};
  const bodies = options.requests.map((spec) => Buffer.from(spec.body ?? ''));
  const total = Math.max(1, Math.round((options.pacedRate * options.durationMs) / 1000));
  const intervalMs = 1000 / options.pacedRate;
  let sent = 0;
  let answered = 0;
  let errors = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const settled = (): void => {
      answered += 1;
      if (answered === total) resolve();
    };
    const sendDue = (): void => {
      const now = performance.now();
      for (; sent < total && started + sent * intervalMs <= now; sent += 1) {
        const issued = performance.now();
        lateness.push(issued - (started + sent * intervalMs));
        const index = sent % options.requests.length;
        const spec = options.requests[index]!;
        const request = http.request(
          {
            agent,
            host: '127.0.0.1',
            port: options.port,
            method: spec.method,
            path: spec.path,
            headers: { ...spec.headers, 'content-length': bodies[index]!.length },
          },
          (response) => {
            response.resume();
            response.on('end', () => {
              const at = performance.now();
              latencies.push(at - issued);
              const status = response.statusCode ?? 0;
              statuses[status] = (statuses[status] ?? 0) + 1;
              options.onResponse?.(status, at);
              settled();
            });
          },
        );
        // So that a load never hangs on a server that stopped answering.
        request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('timed out')));
        request.on('error', () => {
          errors += 1;
          settled();
        });
        request.end(bodies[index]);
      }
      if (sent < total) setTimeout(sendDue, Math.max(0, started + sent * intervalMs - performance.now()));
    };
    sendDue();
  });
  agent.destroy();
  return { ...loadResult(started, latencies, errors, statuses), sendLateness: summarise(lateness) };
}

/** A load's figures from the responses it timed since `started` (`performance.now()`). */
function loadResult(
  started: number,
  latencies: number[],
  errors: number,
  statuses: Record<string, number>,
): LoadResult {
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    seconds,
    rate: latencies.length / seconds,
    latency: summarise(latencies),
    errors,
    statuses,
  };
}

/** One request through fetch; its status, or 0 when there was no answer. */
export async function send(port: number, spec: RequestSpec): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${spec.path}`, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** A GET answered 200 with JSON, parsed. */
export async function getJson<T>(port: number, path: string, headers?: Record<string, string>): Promise<T> {
  const { status, body } = await send(port, { method: 'GET', path, headers });
  if (status !== 200) throw new Error(`GET ${path} answered ${status}`);
  return JSON.parse(body) as T;
}

/** Sends every request, `concurrency` at a time, and fails unless each was answered 202. */
export async function sendAccepted(
  port: number,
  requests: RequestSpec[],
  concurrency: number,
  what: string,
): Promise<void> {
  const statuses: number[] = [];
  let next = 0;
  const sender = async (): Promise<void> => {
    for (let i = next++; i < requests.length; i = next++)
      statuses[i] = (await send(port, requests[i]!)).status;
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, sender));
  const refused = statuses.filter((status) => status !== 202);
  if (refused.length > 0)
    throw new Error(`${what}: ${refused.length} request(s) not answered 202 (${refused[0]})`);
}
