import { Queue } from 'bullmq';
import {
  buildTestEnv,
  getFreePort,
  insertTestSite,
  postJson,
  spawnService,
  waitForReady,
  type ServiceProcess,
} from '@analytics/testkit';
import { connectMongo, requestsOf, type IngestEventsJob } from '@analytics/common';
import { buildEvent } from '../fixtures/events';

// These run the built service (dist/) as a real process: `npm test` builds first.
const running: ServiceProcess[] = [];
afterEach(() => running.splice(0).forEach((p) => p.kill()));

async function baseEnv(): Promise<Record<string, string>> {
  return buildTestEnv('process', { LOG_LEVEL: 'warn', PORT: String(await getFreePort()) });
}

describe('ingestion_service start-up', () => {
  it.each([
    ['PORT', 'abc'],
    ['REDIS_URL', 'http://nope'],
    ['RATE_LIMIT_IP_PER_MINUTE', '-1'],
    ['SITE_REFRESH_INTERVAL_MS', '60000'],
    ['RATE_LIMIT_SITE_PER_SECOND', '100'],
  ])('when %s is %s, then it exits 1 with one line naming the variable', async (name, value) => {
    const service = spawnService('ingestion_service', { ...(await baseEnv()), [name]: value });
    running.push(service);
    const { code } = await service.exited;
    expect(code).toBe(1);
    const lines = service.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).not.toMatch(/\n\s+at /);
  });

  it('when MongoDB cannot be reached, then it exits 1 with one line saying what to do', async () => {
    const port = await getFreePort();
    const service = spawnService('ingestion_service', {
      ...(await baseEnv()),
      MONGODB_URI: `mongodb://127.0.0.1:${port}/x?serverSelectionTimeoutMS=500`,
    });
    running.push(service);
    const { code } = await service.exited;
    expect(code).toBe(1);
    const lines = service.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/MongoDB.*MONGODB_URI/);
  });
});

describe('ingestion_service shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'when it gets %s during requests, then every accepted request completes, the events are in Redis, and it exits 0 within 10 s',
    async (signal) => {
      const env = await baseEnv();
      const mongo = await connectMongo(env.MONGODB_URI!);
      const site = await insertTestSite(mongo);
      await mongo.close();
      const service = spawnService('ingestion_service', env);
      running.push(service);
      await waitForReady(service);

      const url = `http://127.0.0.1:${env.PORT}/event`;
      const sends = Array.from({ length: 30 }, () =>
        postJson(url, buildEvent(site.siteId), { 'x-api-key': site.writeKey }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const signalledAt = Date.now();
      process.kill(service.pid, signal);
      const results = await Promise.all(sends);
      const { code } = await service.exited;
      expect(code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);

      // Every 202 is in the queue; a request refused by the closing server never got a 202.
      const accepted = results
        .filter((r) => r.status === 202)
        .map((r) => (r.body as { event_id: string }).event_id);
      expect(results.every((r) => r.status === 202 || r.status === 0)).toBe(true);
      const queue = new Queue(env.QUEUE_NAME!, {
        connection: { url: env.REDIS_URL! },
        prefix: env.REDIS_PREFIX,
      });
      const jobs = await queue.getJobs(['waiting']);
      const stored = jobs.flatMap((job) =>
        requestsOf(job.data as IngestEventsJob).flatMap((request) => request.events.map((e) => e.event_id)),
      );
      expect(stored.sort()).toEqual(accepted.sort());
      await queue.obliterate({ force: true });
      await queue.close();
    },
  );
});
