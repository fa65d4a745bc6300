import { Writable } from 'node:stream';
import winston from 'winston';
import { logger, type TrackedEvent } from '@analytics/common';
import { waitFor, type TestSite } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { startSystem, type TestSystem } from '../support/system';

/**
 * The contract: the client IP derives the visitor and the country, then is dropped — never queued in
 * clear, stored in MongoDB, used in a Redis key, or logged. The IPs below are sent every way an IP can
 * arrive (context.ip, X-Forwarded-For through a trusted proxy), then every place is searched for them.
 */
const TEST_IPS = ['81.2.69.142', '2a00:1450:4001:82a::200e', '8.8.4.4'];
/** The same addresses as other spellings could store them. */
const SPELLINGS = [...TEST_IPS, '::ffff:8.8.4.4', '2a00:1450:4001:82a:0:0:0:200e', '81_2_69_142'];
const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let system: TestSystem;
let site: TestSite;
const logLines: string[] = [];
let restoreLogger: () => void;

beforeAll(async () => {
  // Every log line of the whole flow, at every level.
  const capture = new winston.transports.Stream({
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  });
  const { level, silent } = logger;
  logger.add(capture);
  logger.level = 'silly';
  logger.silent = false;
  const console = logger.transports.filter((t) => t instanceof winston.transports.Console);
  console.forEach((t) => logger.remove(t));
  restoreLogger = () => {
    logger.remove(capture);
    console.forEach((t) => logger.add(t));
    Object.assign(logger, { level, silent });
  };
  system = await startSystem({ ingestionEnv: { TRUST_PROXY: 'loopback', RATE_LIMIT_IP_PER_MINUTE: '600' } });
  site = await system.newSite();
});
afterAll(async () => {
  await system.close();
  restoreLogger();
});

/** Every key under the system's prefix with its whole value, as text. */
async function redisContents(): Promise<Map<string, string>> {
  const redis = system.ingestion.redis;
  const contents = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${system.env.REDIS_PREFIX}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      contents.set(key, JSON.stringify(value));
    }
  } while (cursor !== '0');
  return contents;
}

function containsTestIp(text: string): string | undefined {
  return SPELLINGS.find((ip) => text.includes(ip));
}

describe('the client IP', () => {
  it('when events arrive with IPs, then no IP is in a job payload, a Redis key, a MongoDB document or a log line', async () => {
    const event = (i: number, extra: Record<string, unknown> = {}) => ({
      site_id: site.siteId,
      event_type: 'page_view',
      path: `/p${i}?utm_source=news`,
      event_id: `privacy-${i}`,
      referrer: 'https://www.google.com/',
      ...extra,
    });
    const sends = [
      system.ingest
        .post('/events')
        .set('x-api-key', site.writeKey)
        .send({ events: TEST_IPS.map((ip, i) => event(i, { context: { ip, user_agent: UA } })) }),
      // through the trusted proxy, as the socket of a real client
      ...TEST_IPS.map((ip, i) =>
        system.ingest
          .post('/event')
          .set('x-api-key', site.writeKey)
          .set('x-forwarded-for', ip)
          .set('user-agent', UA)
          .send(event(10 + i)),
      ),
      // bad input that names the IP: rejected, and the rejection is logged
      system.ingest
        .post('/event')
        .set('x-api-key', site.writeKey)
        .set('x-forwarded-for', TEST_IPS[0]!)
        .send(event(20, { context: { ip: TEST_IPS[0], user_agent: UA, extra: 1 } })),
    ];
    const answers = await Promise.all(sends);
    expect(answers.map((res) => res.status)).toEqual([202, 202, 202, 202, 400]);
    await waitForDrain(system.queue);
    const raw = system.ingestion.mongo.collection('events');
    const stored = await waitFor(
      async () => {
        const docs = await raw.find({ site_id: site.siteId }).toArray();
        return docs.length === 6 ? docs : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'the six events to be stored' },
    );

    // What was derived from the IPs is there: the search below looks at the right things.
    expect(stored.map((d) => d.country).sort()).toEqual(['GB', 'GB', 'IE', 'IE', 'US', 'US']);
    expect(new Set(stored.map((d) => d.visitor)).size).toBe(3);

    // 1. Job payloads and 2. keys in Redis (the completed jobs keep their payloads).
    const redis = await redisContents();
    const payloads = [...redis.values()].filter((value) => value.includes('privacy-'));
    expect(payloads.length).toBeGreaterThan(0);
    const jobEvents = (await system.queue.getJobs(['completed'])).flatMap((job) =>
      (job.data as { requests: { events: TrackedEvent[] }[] }).requests.flatMap((r) => r.events),
    );
    expect(jobEvents.filter((e) => e.event_id.startsWith('privacy-'))).toHaveLength(6);
    for (const [key, value] of redis) {
      expect([key, containsTestIp(key)]).toEqual([key, undefined]);
      expect([key, containsTestIp(value)]).toEqual([key, undefined]);
    }
    expect([...redis.keys()].some((key) => key.includes(':rl:ip:'))).toBe(true);

    // 3. Every document of every collection in MongoDB.
    const collections = ['events', 'rollups', 'writes', 'visit_parts', 'sites', 'job_runs'];
    for (const name of collections) {
      const docs = await system.ingestion.mongo.collection(name).find({}).toArray();
      if (name === 'events' || name === 'visit_parts') expect([name, docs.length > 0]).toEqual([name, true]);
      for (const doc of docs) expect([name, containsTestIp(JSON.stringify(doc))]).toEqual([name, undefined]);
    }

    // 4. Every log line, at every level.
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((line) => line.includes('request rejected'))).toBe(true);
    for (const line of logLines) expect(containsTestIp(line)).toBeUndefined();
  });
});
