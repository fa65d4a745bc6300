import supertest from 'supertest';
import { ConfigError, JOBS, type IngestEventsJob } from '@analytics/common';
import { getFreePort, spawnService, waitFor } from '@analytics/testkit';
import { loadConfig as loadIngestionConfig } from '../../ingestion_service/src/config';
import { loadConfig as loadProcessorConfig } from '../../processor_service/src/config';
import { loadConfig as loadCronConfig } from '../../cron_service/src/config';
import {
  startIngestionHarness,
  type IngestionHarness,
} from '../../ingestion_service/tests/fixtures/ingestion-harness';
import { CronHarness, cronTestEnv } from '../../cron_service/tests/fixtures/cron-harness';
import { expectErrorBody } from '../support/error-body';
import { waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

const event = (siteId: string) => ({ site_id: siteId, event_type: 'page_view', path: '/x' });

describe('fault injection is refused in production', () => {
  it.each([
    [
      'INGESTION_FAULT',
      'error',
      () => loadIngestionConfig({ NODE_ENV: 'production', INGESTION_FAULT: 'error' }),
    ],
    [
      'PROCESSOR_FAULT',
      'slow-batches',
      () => loadProcessorConfig({ NODE_ENV: 'production', PROCESSOR_FAULT: 'slow-batches' }),
    ],
    ['CRON_FAULT', 'hang', () => loadCronConfig({ NODE_ENV: 'production', CRON_FAULT: 'hang' })],
  ])(
    'when %s=%s and NODE_ENV=production, then the configuration is rejected naming it',
    (name, _mode, load) => {
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(new RegExp(`${name} is refused when NODE_ENV=production`));
    },
  );

  it('when unset, then no fault is configured', () => {
    expect(loadIngestionConfig({}).fault.mode).toBeUndefined();
    expect(loadProcessorConfig({}).fault).toBeUndefined();
    expect(loadCronConfig({}).fault).toBeUndefined();
  });
});

describe('INGESTION_FAULT', () => {
  let h: IngestionHarness;
  afterEach(async () => {
    await h.close();
  });

  it('when unavailable, then events answer 503 with Retry-After and nothing is enqueued', async () => {
    h = await startIngestionHarness({ INGESTION_FAULT: 'unavailable' });
    const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).send(event(h.site.siteId));
    expect(res.status).toBe(503);
    expectErrorBody(res, { code: 'queue-unavailable' });
    expect(res.headers['retry-after']).toBeDefined();
    expect(await h.jobs()).toHaveLength(0);
  });

  it('when error at rate 1, then events answer 500 with the error body; at rate 0 they pass', async () => {
    h = await startIngestionHarness({ INGESTION_FAULT: 'error', INGESTION_FAULT_RATE: '1' });
    const res = await h.http
      .post('/events')
      .set('x-api-key', h.site.writeKey)
      .send({ events: [event(h.site.siteId)] });
    expect(res.status).toBe(500);
    expectErrorBody(res, { code: 'internal-error' });
    await h.close();
    h = await startIngestionHarness({ INGESTION_FAULT: 'error', INGESTION_FAULT_RATE: '0' });
    const ok = await h.http.post('/event').set('x-api-key', h.site.writeKey).send(event(h.site.siteId));
    expect(ok.status).toBe(202);
  });
});

describe('PROCESSOR_FAULT', () => {
  let system: TestSystem | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });

  function job(siteId: string, id: string): IngestEventsJob {
    return {
      v: 1,
      request_id: 'r',
      received_at: new Date().toISOString(),
      events: [{ ...event(siteId), event_id: id, timestamp: new Date().toISOString() }],
    };
  }

  it('when reject-payloads with share 1, then every job fails once as malformed, never retried', async () => {
    system = await startSystem({
      processorEnv: { PROCESSOR_FAULT: 'reject-payloads', PROCESSOR_FAULT_SHARE: '1' },
    });
    const site = await system.newSite();
    await system.queue.add(JOBS.ingestEvents, job(site.siteId, 'a'));
    await system.queue.add(JOBS.ingestEvents, job(site.siteId, 'b'));
    await waitForDrain(system.queue);
    const failed = await system.queue.getJobs(['failed']);
    expect(failed).toHaveLength(2);
    for (const j of failed) {
      expect(j.attemptsMade).toBe(1);
      expect(j.failedReason).toMatch(/injected/);
    }
  });

  it('when slow-batches, then a job takes at least the configured delay', async () => {
    system = await startSystem({
      processorEnv: { PROCESSOR_FAULT: 'slow-batches', PROCESSOR_FAULT_DELAY_MS: '800' },
    });
    const site = await system.newSite();
    await system.queue.add(JOBS.ingestEvents, job(site.siteId, 'slow'));
    await waitForDrain(system.queue);
    const [done] = await system.queue.getJobs(['completed']);
    expect(done!.finishedOn! - done!.processedOn!).toBeGreaterThanOrEqual(800);
  });

  it('when crash-at-start, then the process says so loudly and exits 86 before serving', async () => {
    const env = cronTestEnv();
    const service = spawnService('processor_service', {
      ...env,
      LOG_LEVEL: 'warn',
      PORT: String(await getFreePort()),
      PROCESSOR_FAULT: 'crash-at-start',
    });
    const { code } = await service.exited;
    expect(code).toBe(86);
    expect(service.output()).toContain('FAULT INJECTION IS ON (PROCESSOR_FAULT=crash-at-start)');
  });
});

describe('CRON_FAULT', () => {
  let harness: CronHarness;
  afterEach(async () => {
    await harness.close();
  });

  it('when fail-database, then every run is recorded as an error', async () => {
    harness = new CronHarness(cronTestEnv({ CRON_FAULT: 'fail-database', HEARTBEAT_INTERVAL_MS: '1000' }));
    await harness.start();
    const runs = await waitFor(async () => {
      const found = await harness.runs('heartbeat');
      return found.some((r) => r.outcome === 'error') ? found : undefined;
    });
    expect(runs.find((r) => r.outcome === 'error')!.error).toMatch(/injected database failure/);
    expect(runs.some((r) => r.outcome === 'ok')).toBe(false);
  });

  it('when hang, then runs never finish and /health reports the job overdue', async () => {
    harness = new CronHarness(cronTestEnv({ CRON_FAULT: 'hang', HEARTBEAT_INTERVAL_MS: '1000' }));
    const service = await harness.start();
    const health = await waitFor(
      async () => {
        const res = await supertest(service.app).get('/health');
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'an overdue heartbeat' },
    );
    expect(health.body.checks['job:heartbeat']).toBe('error');
    const runs = await harness.runs('heartbeat');
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.outcome === undefined)).toBe(true);
  });
});
