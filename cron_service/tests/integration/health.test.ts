import supertest from 'supertest';
import { waitFor } from '@analytics/testkit';
import { CronHarness, cronTestEnv } from '../fixtures/cron-harness';

describe('GET /health on the cron service', () => {
  let harness: CronHarness;
  afterEach(async () => {
    await harness.close();
  });

  async function health(app: Parameters<typeof supertest>[0]) {
    const started = Date.now();
    const res = await supertest(app).get('/health');
    expect(Date.now() - started).toBeLessThan(1000);
    return res;
  }

  it('when every job ran recently, then 200 with a check and the last success of each job', async () => {
    harness = new CronHarness(cronTestEnv({ HEARTBEAT_INTERVAL_MS: '1000' }));
    const service = await harness.start();
    await harness.waitForSuccess('retention');
    await harness.waitForSuccess('heartbeat');

    const res = await health(service.app);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: { redis: 'ok', mongodb: 'ok', 'job:retention': 'ok', 'job:heartbeat': 'ok' },
      jobs: {
        retention: {
          interval_ms: 3_600_000,
          overdue: false,
          last_success_at: expect.any(String),
          last_run: { trigger: 'schedule', outcome: 'ok', removed: 0 },
        },
        heartbeat: { interval_ms: 1000, overdue: false, last_success_at: expect.any(String) },
      },
    });
  });

  it('when a job has not succeeded for two intervals (its worker stopped), then 503 naming that job', async () => {
    harness = new CronHarness(cronTestEnv({ HEARTBEAT_INTERVAL_MS: '1000' }));
    const service = await harness.start();
    await harness.waitForSuccess('heartbeat');
    await service.worker.close();

    const res = await waitFor(
      async () => {
        const answer = await health(service.app);
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 5000, intervalMs: 200, what: 'the heartbeat to be overdue' },
    );
    expect(res.body).toMatchObject({
      status: 'error',
      checks: { redis: 'ok', mongodb: 'ok', 'job:retention': 'ok', 'job:heartbeat': 'error' },
      jobs: { heartbeat: { overdue: true }, retention: { overdue: false } },
    });
  });

  it('when the service has just started with no run recorded yet, then it is not an error', async () => {
    harness = new CronHarness(cronTestEnv({ HEARTBEAT_INTERVAL_MS: '60000' }));
    const service = await harness.start();
    // Nothing processes the schedule's first ticks here: stop the worker before it takes them.
    await service.worker.close();
    await (await harness.mongo()).collection('job_runs').deleteMany({});
    const res = await health(service.app);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      checks: { 'job:retention': 'ok', 'job:heartbeat': 'ok' },
      jobs: { heartbeat: { overdue: false, last_success_at: null } },
    });
  });
});
