import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@analytics/testkit';
import { CronHarness, cronTestEnv } from '../fixtures/cron-harness';

/** The slot (ms) a scheduled run belongs to, from its BullMQ job id `repeat:<job>:<slot>`. */
function slotOf(queueJobId: string | undefined): number {
  const match = /^repeat:[a-z]+:(\d+)$/.exec(queueJobId ?? '');
  if (!match) throw new Error(`not a scheduled job id: ${queueJobId}`);
  return Number(match[1]);
}

describe('the cron schedules', () => {
  let harness: CronHarness;
  afterEach(async () => {
    await harness.close();
  });

  it('when two cron instances share the queue, then each tick of a schedule runs once, not twice', async () => {
    harness = new CronHarness(
      cronTestEnv({ HEARTBEAT_INTERVAL_MS: '1000', RETENTION_INTERVAL_MS: '3600000' }),
    );
    const started = Date.now();
    const [a, b] = await Promise.all([harness.start(), harness.start()]);
    await sleep(5500);
    await Promise.all([harness.stop(a), harness.stop(b)]);
    const elapsedTicks = Math.floor((Date.now() - started) / 1000) + 1;

    const heartbeats = await harness.runs('heartbeat');
    const slots = heartbeats.map((run) => slotOf(run.queue_job_id));
    // Once per tick: no slot twice, consecutive slots at least one interval apart, and no more runs than
    // ticks elapsed; one instance alone would have run as many.
    expect(new Set(slots).size).toBe(slots.length);
    const sorted = [...slots].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i += 1) {
      expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(1000);
    }
    expect(heartbeats.length).toBeGreaterThanOrEqual(4);
    expect(heartbeats.length).toBeLessThanOrEqual(elapsedTicks);
    expect(heartbeats.every((run) => run.outcome === 'ok' && run.trigger === 'schedule')).toBe(true);
    // Both instances upserted the hourly retention schedule; its first tick ran once.
    expect(await harness.runs('retention')).toEqual([expect.objectContaining({ outcome: 'ok' })]);
  }, 20_000);

  it('when the cron service restarts, then the schedules keep their slots and nothing runs early', async () => {
    harness = new CronHarness(
      cronTestEnv({ HEARTBEAT_INTERVAL_MS: '60000', RETENTION_INTERVAL_MS: '3600000' }),
    );
    const first = await harness.start();
    // A new schedule's first tick is due at once.
    await waitFor(async () => ((await harness.runs('retention')).length === 1 ? true : undefined));
    await waitFor(async () => ((await harness.runs('heartbeat')).length === 1 ? true : undefined));
    const nextBefore = await first.queue.getJobScheduler('retention');
    expect(nextBefore?.next).toBeGreaterThan(Date.now() + 3_500_000);
    await harness.stop(first);

    const second = await harness.start();
    expect((await second.queue.getJobScheduler('retention'))?.next).toBe(nextBefore?.next);
    await sleep(500);
    expect(await harness.runs('retention')).toHaveLength(1);
    expect(await harness.runs('heartbeat')).toHaveLength(1);
  });

  it('when a scheduler of a job that no longer exists is in Redis, then start-up removes it', async () => {
    harness = new CronHarness(cronTestEnv());
    const first = await harness.start();
    await first.queue.upsertJobScheduler('vacuum', { every: 3_600_000 }, { name: 'vacuum' });
    await harness.stop(first);
    const second = await harness.start();
    const ids = (await second.queue.getJobSchedulers()).map((scheduler) => scheduler.key).sort();
    expect(ids).toEqual(['heartbeat', 'retention', 'site-deletion', 'user-erasure']);
  });
});
