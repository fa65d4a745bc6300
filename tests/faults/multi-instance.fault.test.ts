import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { getRawEventModel } from '@analytics/common';
import { waitFor } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { getJobRunModel } from '../../cron_service/src/models/job-run.model';
import { Cluster, type RunningService } from './support/cluster';
import { checkLedger, Ledger, makeEvents } from './support/ledger';

/**
 * Several instances of everything against one Redis and one MongoDB, as on several VMs: 2 ingestion,
 * 3 processors, 2 reporting, 2 cron, under a hash-tagged REDIS_PREFIX (the Redis Cluster layout).
 * A ledgered workload runs through both ingestion instances (client-side balancing, as a load balancer
 * does) while one processor is killed with SIGKILL and one ingestion instance is reloaded the way
 * `pm2 reload` does it: the new one starts and is ready, traffic moves to it, the old one is stopped
 * with SIGINT and finishes what it accepted. Then every number must be exact and every cron tick run once.
 */
const PREFIX = '{mi}';
const HEARTBEAT_MS = 1000;
let cluster: Cluster;

afterAll(async () => {
  await cluster?.stop();
});

/** Slot (ms) of a scheduled run, from its BullMQ job id `repeat:<job>:<slot>`. */
function slotOf(queueJobId: string | undefined): number {
  const match = /^repeat:[a-z]+:(\d+)$/.exec(queueJobId ?? '');
  if (!match) throw new Error(`not a scheduled job id: ${queueJobId}`);
  return Number(match[1]);
}

describe('several instances of every service', () => {
  it('when a processor is killed and an ingestion instance reloaded under load, then every number is exact and every cron tick ran once', async () => {
    cluster = await new Cluster({ redisPrefix: PREFIX }).start();
    const cron = { HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS), RETENTION_INTERVAL_MS: '5000' };
    const [ingestA, ingestB, victim, , , reportA, reportB] = await Promise.all([
      cluster.startService('ingestion_service'),
      cluster.startService('ingestion_service'),
      cluster.startService('processor_service'),
      cluster.startService('processor_service'),
      cluster.startService('processor_service'),
      cluster.startService('reporting_service'),
      cluster.startService('reporting_service'),
      cluster.startService('cron_service', cron),
      cluster.startService('cron_service', cron),
    ]);
    const cronStarted = Date.now();

    // The "load balancer": two clients, each taking the next live ingestion instance in turn.
    const live: RunningService[] = [ingestA!, ingestB!];
    const inFlight = new Map<string, number>();
    const ledger = new Ledger();
    let turn = 0;
    let sending = true;
    const client = async (label: string) => {
      while (sending) {
        const target = live[turn++ % live.length]!;
        inFlight.set(target.url, (inFlight.get(target.url) ?? 0) + 1);
        await ledger.sendBatch(target.url, cluster.site.writeKey, makeEvents(cluster.site.siteId, 10, label));
        inFlight.set(target.url, inFlight.get(target.url)! - 1);
        await sleep(20);
      }
    };
    const load = Promise.all([client('mi-a'), client('mi-b')]);
    const stored = () => getRawEventModel(cluster.mongo).countDocuments({});

    await waitFor(async () => ((await stored()) >= 200 ? true : undefined), { timeoutMs: 30_000 });
    process.kill(victim!.pid, 'SIGKILL');
    expect((await victim!.exited).signal).toBe('SIGKILL');

    // Reload ingestion B: start its successor, wait for ready, move traffic, drain, SIGINT.
    const ingestB2 = await cluster.startService('ingestion_service');
    live.splice(live.indexOf(ingestB!), 1, ingestB2);
    await waitFor(async () => ((inFlight.get(ingestB!.url) ?? 0) === 0 ? true : undefined), {
      intervalMs: 5,
    });
    process.kill(ingestB!.pid, 'SIGINT');
    expect((await ingestB!.exited).code).toBe(0);

    await sleep(3000);
    sending = false;
    await load;
    await waitForDrain(cluster.queue, 90_000);
    const cronStopped = Date.now();

    // Exact: every 202 stored once, rollups equal to a recount, no request failed.
    const report = await checkLedger(
      '2 ingestion, 3 processors (one killed), 2 reporting, 2 cron',
      ledger,
      cluster.mongo,
    );
    expect([...ledger.statuses.keys()]).toEqual([202]);
    expect(report.accepted).toBeGreaterThanOrEqual(400);
    expect(report.stored).toBe(report.accepted);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.rollupMismatches).toBe(0);

    // Both reporting instances answer the same exact numbers.
    for (const reporting of [reportA!, reportB!]) {
      const response = await fetch(`${reporting.url}/stats?site_id=${cluster.site.siteId}`, {
        headers: { authorization: `Bearer ${cluster.site.readKey}` },
      });
      const stats = (await response.json()) as { total_views: number; unique_users: number };
      expect(stats.total_views).toBe(report.accepted);
      expect(stats.unique_users).toBe(9);
    }

    // Cron: each tick of each schedule ran once across both instances, and no heartbeat tick was skipped.
    const runs = await getJobRunModel(cluster.mongo).find({ trigger: 'schedule' }).lean();
    for (const job of ['heartbeat', 'retention']) {
      const ids = runs.filter((r) => r.job === job).map((r) => r.queue_job_id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    const slots = runs
      .filter((r) => r.job === 'heartbeat')
      .map((r) => slotOf(r.queue_job_id))
      .sort((a, b) => a - b);
    // Ticks on the interval's grid, none twice; and (almost) none skipped: a tick whose worker was busy past
    // the next slot may be merged by BullMQ, so two are allowed for a loaded CI machine.
    for (let i = 1; i < slots.length; i += 1) {
      expect((slots[i]! - slots[i - 1]!) % HEARTBEAT_MS).toBe(0);
      expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(HEARTBEAT_MS);
    }
    const elapsedTicks = Math.floor((cronStopped - cronStarted) / HEARTBEAT_MS);
    expect(slots.length).toBeGreaterThanOrEqual(elapsedTicks - 2);
    expect(runs.every((r) => r.outcome === 'ok')).toBe(true);
    expect(new Set(runs.map((r) => r.instance)).size).toBeGreaterThanOrEqual(1);

    // Every Redis key of the install carries the hash tag: one Redis Cluster slot for all of them.
    const redis = new Redis(cluster.redis.url);
    const keys = await redis.keys('*');
    await redis.quit();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(`${PREFIX}:`))).toEqual([]);
    process.stdout.write(
      `MULTI-INSTANCE: ${report.accepted} events exact; ${slots.length} heartbeat ticks once each; ${keys.length} keys under ${PREFIX}\n`,
    );
  }, 180_000);
});
