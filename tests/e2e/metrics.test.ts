import { connectMongo } from '@analytics/common';
import {
  buildTestEnv,
  dropTestDatabase,
  getFreePort,
  insertTestSite,
  postJson,
  spawnService,
  waitFor,
  waitForReady,
  type ServiceProcess,
} from '@analytics/testkit';

// The built services (dist/) as real processes, each with its metrics listener on a port of its own.
const SERVICES = ['ingestion_service', 'processor_service', 'reporting_service', 'cron_service'] as const;
type ServiceName = (typeof SERVICES)[number];

const running: ServiceProcess[] = [];
afterAll(() => running.splice(0).forEach((service) => service.kill()));

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

/** The value of one series (`name{labels}` as Prometheus prints it), 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('Prometheus metrics on every service', () => {
  const ports = {} as Record<ServiceName, { http: number; metrics: number }>;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = buildTestEnv('metrics', { ADMIN_API_KEY: 'admin-key-for-tests-0123456789' });
    for (const name of SERVICES) {
      ports[name] = { http: await getFreePort(), metrics: await getFreePort() };
      const service = spawnService(name, {
        ...env,
        PORT: String(ports[name].http),
        METRICS_PORT: String(ports[name].metrics),
      });
      running.push(service);
      await waitForReady(service);
    }
  });
  afterAll(async () => {
    const mongo = await connectMongo(env.MONGODB_URI!);
    await dropTestDatabase(mongo);
    await mongo.close();
  });

  it('when events flow, then each service exposes its contract series on its metrics port, moving, and never on the public port', async () => {
    const mongo = await connectMongo(env.MONGODB_URI!);
    const site = await insertTestSite(mongo);
    await mongo.close();
    const ingest = `http://127.0.0.1:${ports.ingestion_service.http}`;
    // A site appears in ingestion's view within its refresh interval; the 401s until then count too.
    let refusedWhileLoading = 0;
    await waitFor(
      async () => {
        const res = await postJson(
          `${ingest}/event`,
          { site_id: site.siteId, event_type: 'signup' },
          { 'x-api-key': site.writeKey },
        );
        if (res.status === 401) refusedWhileLoading += 1;
        return res.status === 202 ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'ingestion to accept the new site' },
    );
    const events = Array.from({ length: 20 }, (_, i) => ({
      site_id: site.siteId,
      event_id: `m-${i}`,
      event_type: 'page_view',
      path: `/m/${i % 3}`,
    }));
    expect((await postJson(`${ingest}/events`, { events }, { 'x-api-key': site.writeKey })).status).toBe(202);
    // The same ids again: stored nothing new, counted as duplicates by the processor.
    expect((await postJson(`${ingest}/events`, { events }, { 'x-api-key': site.writeKey })).status).toBe(202);
    expect(
      (await postJson(`${ingest}/event`, { site_id: site.siteId }, { 'x-api-key': site.writeKey })).status,
    ).toBe(400);
    expect((await postJson(`${ingest}/event`, events[0], { 'x-api-key': 'wrong' })).status).toBe(401);

    const ingestion = await scrape(ports.ingestion_service.metrics);
    expect(value(ingestion, 'analytics_events_accepted_total{endpoint="/events"}')).toBe(40);
    expect(value(ingestion, 'analytics_events_accepted_total{endpoint="/event"}')).toBeGreaterThanOrEqual(1);
    expect(value(ingestion, 'analytics_events_dropped_total{reason="invalid"}')).toBe(1);
    expect(value(ingestion, 'analytics_events_dropped_total{reason="unauthorized"}')).toBe(
      1 + refusedWhileLoading,
    );
    expect(ingestion).toMatch(
      /http_request_duration_seconds_count\{service="ingestion_service",route="\/events",method="POST",status="202"\} 2/,
    );
    expect(ingestion).toContain('process_cpu_seconds_total');

    const processor = await waitFor(
      async () => {
        const text = await scrape(ports.processor_service.metrics);
        return value(text, 'analytics_events_duplicate_total') >= 20 ? text : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the processor to count the resent events as duplicates' },
    );
    expect(value(processor, 'analytics_processor_batch_events_sum')).toBeGreaterThanOrEqual(41);
    expect(value(processor, 'analytics_processor_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(processor).toContain('analytics_queue_waiting 0');
    expect(processor).toContain('analytics_queue_oldest_waiting_seconds');
    expect(processor).toContain('analytics_processor_write_timeouts_total 0');

    const reporting = `http://127.0.0.1:${ports.reporting_service.http}`;
    expect((await fetch(`${reporting}/stats?site_id=${site.siteId}`)).status).toBe(401);
    expect(await scrape(ports.reporting_service.metrics)).toMatch(
      /http_request_duration_seconds_count\{service="reporting_service",route="\/stats",method="GET",status="401"\} 1/,
    );

    const cron = await waitFor(
      async () => {
        const text = await scrape(ports.cron_service.metrics);
        return text.includes('analytics_cron_runs_total{job="heartbeat",outcome="ok"}') ? text : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a heartbeat run to be counted' },
    );
    expect(value(cron, 'analytics_cron_runs_total{job="heartbeat",outcome="ok"}')).toBeGreaterThanOrEqual(1);

    // The public ports serve the API only.
    for (const name of SERVICES) {
      expect((await fetch(`http://127.0.0.1:${ports[name].http}/metrics`)).status).toBe(404);
    }
  });
});
