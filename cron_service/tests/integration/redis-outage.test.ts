import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DAY_MS, getRawEventModel } from '@analytics/common';
import { startTestRedis, type TestRedis } from '@analytics/testkit';
import { CronHarness, cronTestEnv } from '../fixtures/cron-harness';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cron_service when its Redis is frozen, then killed and restarted', () => {
  let redis: TestRedis;
  let harness: CronHarness | undefined;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cron-redis-'));
    redis = await startTestRedis({ appendfsync: 'always', dir });
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Freezes Redis, kills it, starts it again on the same port; `keepData` restarts it from its AOF. */
  async function restartRedisAfterFreeze(keepData: boolean): Promise<Date> {
    redis.freeze();
    await pause(2000);
    process.kill(redis.pid, 'SIGKILL');
    await redis.stop();
    redis = await startTestRedis(
      keepData ? { port: redis.port, appendfsync: 'always', dir } : { port: redis.port },
    );
    return new Date();
  }

  /** Waits for `count` runs of `job` that started after `after` and, with `ok`, succeeded. */
  async function waitForRuns(job: string, after: Date, count: number, ok: boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    let seen = 0;
    while (Date.now() < deadline) {
      const runs = await harness!.runs(job);
      seen = runs.filter((run) => run.started_at > after && (!ok || run.outcome === 'ok')).length;
      if (seen >= count) return;
      await pause(250);
    }
    expect({ job, runs: seen }).toEqual({ job, runs: count });
  }

  it('when Redis comes back from its AOF while a retention run was in flight, then every job runs again', async () => {
    harness = new CronHarness(
      cronTestEnv({
        REDIS_URL: redis.url,
        HEARTBEAT_INTERVAL_MS: '1000',
        RETENTION_INTERVAL_MS: '1000',
        RETENTION_DAYS: '30',
        // 40 old events removed one by one: the run lasts about 10 s, across the outage
        RETENTION_BATCH_SIZE: '1',
        RETENTION_BATCH_PAUSE_MS: '250',
      }),
    );
    const old = new Date(Date.now() - 40 * DAY_MS);
    await getRawEventModel(await harness.mongo()).collection.insertMany(
      Array.from({ length: 40 }, (_, i) => ({ site_id: 's', event_id: `old-${i}`, timestamp: old })),
    );
    await harness.start();
    await waitForRuns('retention', new Date(0), 1, false);

    const restartedAt = await restartRedisAfterFreeze(true);

    await waitForRuns('retention', restartedAt, 2, true);
    await waitForRuns('heartbeat', restartedAt, 2, true);
  }, 60_000);

  it('when Redis comes back empty (no persistence), then the schedules are written again and the jobs run', async () => {
    harness = new CronHarness(cronTestEnv({ REDIS_URL: redis.url, HEARTBEAT_INTERVAL_MS: '1000' }));
    const service = await harness.start();
    await waitForRuns('heartbeat', new Date(0), 1, true);

    const restartedAt = await restartRedisAfterFreeze(false);

    await waitForRuns('heartbeat', restartedAt, 2, true);
    const schedulers = (await service.queue.getJobSchedulers()).map((scheduler) => scheduler.key).sort();
    expect(schedulers).toEqual(['heartbeat', 'retention', 'site-deletion', 'user-erasure']);
  }, 60_000);
});
