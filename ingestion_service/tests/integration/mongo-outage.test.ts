import { mongoUriWithDatabase, startTestMongo, waitFor, type TestMongo } from '@analytics/testkit';
import { buildEvent } from '../fixtures/events';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

// A private MongoDB engine: freezing or stopping the suite's one would break the other test files.
let mongo: TestMongo;
let h: IngestionHarness;

beforeAll(async () => {
  mongo = await startTestMongo();
  h = await startIngestionHarness({ MONGODB_URI: mongoUriWithDatabase(mongo.uri, 'ingestion_outage') });
});
afterAll(async () => {
  mongo.resume();
  await h.close();
  await mongo.stop();
});

async function sendEvent() {
  const event = buildEvent(h.site.siteId);
  const res = await h.http.post('/event').set('x-api-key', h.site.writeKey).send(event);
  return { event, res };
}

/**
 * /health/ready once its MongoDB check says `ok`: a ping slower than the 800 ms check (a loaded machine, a
 * cold engine) reports `stale` for that one answer, which is right; what is tested is that it recovers.
 */
async function readyWhenMongoOk(what: string) {
  let last: unknown;
  return waitFor(
    async () => {
      const ready = await h.http.get('/health/ready');
      last = ready.body;
      return ready.body?.checks?.mongodb === 'ok' ? ready : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: `${what} (last answer ${JSON.stringify(last)})` },
  );
}

describe('ingestion while MongoDB is down (its site keys are in memory)', () => {
  it('when MongoDB answers, then mongodb is ok in /health and /health/ready', async () => {
    const ready = await readyWhenMongoOk('MongoDB to answer the first health check');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'ok', mongodb: 'ok' } });
  });

  it('when MongoDB hangs (SIGSTOP), then /health and /health/ready answer 200 with mongodb stale within 1 s, /health/live 200, and events are still enqueued', async () => {
    mongo.freeze();
    let started = Date.now();
    const health = await h.http.get('/health');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { redis: 'ok', mongodb: 'stale' } });

    started = Date.now();
    const ready = await h.http.get('/health/ready');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'ok', mongodb: 'stale' } });
    expect((await h.http.get('/health/live')).status).toBe(200);

    // Ready means it can do its job: the event is accepted and in the queue.
    const { event, res } = await sendEvent();
    expect(res.status).toBe(202);
    expect((await h.enqueuedEvents()).map((e) => e.event_id)).toContain(event.event_id);

    mongo.resume();
  });

  it('when MongoDB is back, then mongodb is ok again', async () => {
    await readyWhenMongoOk('the resumed MongoDB to answer health checks');
    const health = await h.http.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.checks).toEqual({ redis: 'ok', mongodb: 'ok' });
  });
});
