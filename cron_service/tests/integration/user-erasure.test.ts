import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import {
  getRawEventModel,
  getRollupModel,
  getUserErasureModel,
  getWriteManifestModel,
  requestsOf,
  type IngestEventsJob,
  type RollupDocument,
} from '@analytics/common';
import { waitFor } from '@analytics/testkit';
import { waitForDrain } from '../../../tests/support/recount';
import { ADMIN_API_KEY, startSystem, type TestSystem } from '../../../tests/support/system';
import { cronQueueName, loadConfig } from '../../src/config';
import { getAuditRecordModel } from '../../src/models/audit-record.model';
import { startCron, type CronService } from '../../src/service';

const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
const TARGET = 'jane.doe+x@example.com';
const OTHERS = ['u-a', 'u-b', 'u-c', 'u.d$', 'u-e'];
const HOUR = 3_600_000;

interface SentEvent {
  site_id: string;
  event_id: string;
  event_type: string;
  path: string;
  user_id?: string;
  timestamp: string;
}

describe('DELETE /users/:user_id, then the user-erasure job', () => {
  let system: TestSystem;
  let cron: CronService | undefined;

  beforeEach(async () => {
    system = await startSystem();
  });
  afterEach(async () => {
    for (const closer of cron?.closers ?? []) await closer.close();
    cron = undefined;
    const cronQueue = new Queue(cronQueueName({ queueName: system.env.QUEUE_NAME! }), {
      connection: { url: system.env.REDIS_URL!, maxRetriesPerRequest: null },
      prefix: system.env.REDIS_PREFIX,
    });
    await cronQueue.obliterate({ force: true }).catch(() => undefined);
    await cronQueue.close();
    await system.close();
  });

  const mongo = () => system.ingestion.mongo;
  const startFastCron = async () => {
    cron = await startCron(
      loadConfig({ ...system.env, SITE_DELETION_INTERVAL_MS: '1000', SITE_DELETION_SETTLE_MS: '3000' }),
    );
  };

  async function createSite(siteId: string): Promise<{ read_key: string; write_key: string }> {
    const res = await system.report.post('/sites').set(admin).send({ name: siteId, site_id: siteId });
    expect(res.status).toBe(201);
    await system.ingestion.sites.refresh();
    return res.body as { read_key: string; write_key: string };
  }

  /** 1,500 events over the last 40 hours (two UTC days), a sixth of them the target's, sent in 3 batches. */
  function buildEvents(siteId: string): SentEvent[] {
    const now = Date.now();
    return Array.from({ length: 1500 }, (_, i) => {
      const user = i % 6 === 0 ? TARGET : i % 6 === 5 ? undefined : OTHERS[i % OTHERS.length];
      return {
        site_id: siteId,
        event_id: `e-${i}`,
        event_type: i % 4 === 3 ? 'signup' : 'page_view',
        path: `/p${i % 7}`,
        ...(user === undefined ? {} : { user_id: user }),
        timestamp: new Date(now - 60_000 - Math.floor((i * 40 * HOUR) / 1500)).toISOString(),
      };
    });
  }

  async function send(writeKey: string, events: SentEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 500) {
      const res = await system.ingest
        .post('/events')
        .set('x-api-key', writeKey)
        .send({ events: events.slice(i, i + 500) });
      expect(res.status).toBe(202);
    }
    await waitForDrain(system.queue, 60_000);
  }

  /** The query API's visitor and visit figures over the last three days, overall and by day. */
  async function visitorQuery(siteId: string, readKey: string): Promise<unknown> {
    const from = new Date(Date.now() - 48 * HOUR).toISOString().slice(0, 10);
    const to = new Date().toISOString().slice(0, 10);
    const res = await system.report
      .post('/api/v2/query')
      .set('authorization', `Bearer ${readKey}`)
      .send({
        site_id: siteId,
        metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate'],
        date_range: [from, to],
        dimensions: ['time:day'],
      });
    expect(res.status).toBe(200);
    return res.body.results;
  }

  async function statsOf(siteId: string, readKey: string): Promise<unknown[]> {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 10);
    const twoDaysAgo = new Date(Date.now() - 48 * HOUR).toISOString().slice(0, 10);
    const answers = [];
    for (const query of [
      { date: today },
      { date: yesterday },
      { date: twoDaysAgo },
      { from: twoDaysAgo, to: today },
    ]) {
      const res = await system.report
        .get('/stats')
        .query({ site_id: siteId, ...query })
        .set('authorization', `Bearer ${readKey}`);
      expect(res.status).toBe(200);
      answers.push(res.body);
    }
    return answers;
  }

  const userRollups = (siteId: string) =>
    getRollupModel(mongo()).find({ site_id: siteId, kind: 'users' }).lean<RollupDocument[]>();

  it('when a user is erased, then within a minute their events and queued jobs are gone, every set holds a pseudonym, the stats are unchanged and an audit record names only a hash', async () => {
    const site = await createSite('erase');
    const bystander = await createSite('bystander');
    const sent = buildEvents('erase');
    await send(site.write_key, sent);
    await send(bystander.write_key, buildEvents('bystander'));
    const targetEvents = sent.filter((e) => e.user_id === TARGET);
    expect(await getRawEventModel(mongo()).countDocuments({ site_id: 'erase' })).toBe(1500);

    // A failed job (poison: a timestamp that does not parse) carrying the target's event.
    const poisonEvent = { ...targetEvents[0]!, event_id: 'poison', timestamp: 'not a time' };
    await system.queue.add('ingest-events', {
      v: 2,
      requests: [{ request_id: 'r-poison', received_at: new Date().toISOString(), events: [poisonEvent] }],
    });
    await waitFor(async () => ((await system.queue.getFailedCount()) === 1 ? true : undefined), {
      what: 'the poison job to fail',
    });
    // Waiting jobs (the worker paused): one with only the target's events, one mixed with another user's.
    await system.processor!.worker.pause();
    const late = (id: string, user: string) => ({
      site_id: 'erase',
      event_id: id,
      event_type: 'page_view',
      path: '/late',
      user_id: user,
      timestamp: new Date().toISOString(),
    });
    const onlyTarget = await system.queue.add('ingest-events', {
      v: 2,
      requests: [
        { request_id: 'r-only', received_at: new Date().toISOString(), events: [late('w-1', TARGET)] },
      ],
    });
    const mixed = await system.queue.add('ingest-events', {
      v: 2,
      requests: [
        { request_id: 'r-t', received_at: new Date().toISOString(), events: [late('w-2', TARGET)] },
        {
          request_id: 'r-m',
          received_at: new Date().toISOString(),
          events: [late('w-3', TARGET), late('w-4', 'u-a')],
        },
      ],
    });
    expect(await system.queue.getWaitingCount()).toBe(2);
    // Visit parts (the query API's pre-aggregate): identified visitors are u:<user_id>.
    const visitParts = mongo().collection('visit_parts');
    const partsOf = async (siteId: string, visitor: string) =>
      (await visitParts.find({ site_id: siteId, visitor }).toArray())
        .map((p) => `${String(p._id)}:${p.n}`)
        .sort();
    const targetPartsBefore = await partsOf('erase', `u:${TARGET}`);
    const otherPartsBefore = await partsOf('erase', 'u:u-a');
    const bystanderPartsBefore = await partsOf('bystander', `u:${TARGET}`);
    expect(targetPartsBefore.length).toBeGreaterThan(0);
    const queryBefore = await visitorQuery('erase', site.read_key);
    const statsBefore = await statsOf('erase', site.read_key);
    const bystanderStatsBefore = await statsOf('bystander', bystander.read_key);
    const rollupsBefore = await userRollups('erase');
    const targetRollupsBefore = rollupsBefore.filter((r) => r.user_id === TARGET);
    expect(targetRollupsBefore.length).toBeGreaterThan(10);
    expect(
      (await getWriteManifestModel(mongo()).find({ 'users.user_id': TARGET }).lean()).length,
    ).toBeGreaterThan(0);

    const requestedAt = Date.now();
    const res = await system.report
      .delete(`/users/${encodeURIComponent(TARGET)}`)
      .query({ site_id: 'erase' })
      .set(admin);
    expect(res.status).toBe(202);
    const body = res.body as { request_id: string; status: string; status_url: string };
    expect(body).toMatchObject({ status: 'pending', status_url: `/user-erasures/${body.request_id}` });
    expect(JSON.stringify(body)).not.toContain(TARGET);
    // Asked again while pending: the same request.
    const again = await system.report
      .delete(`/users/${encodeURIComponent(TARGET)}`)
      .query({ site_id: 'erase' })
      .set(admin);
    expect(again.status).toBe(202);
    expect((again.body as { request_id: string }).request_id).toBe(body.request_id);

    await startFastCron();
    await waitFor(
      async () => {
        const status = await system.report.get(body.status_url).set(admin);
        return (status.body as { status: string }).status === 'done' ? status.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the erasure to be done' },
    );
    expect(Date.now() - requestedAt).toBeLessThan(60_000);

    // Raw events: exactly the target's are gone, on this site only.
    const left = await getRawEventModel(mongo()).find({ site_id: 'erase' }).lean();
    expect(left.map((e) => e.event_id).sort()).toEqual(
      sent
        .filter((e) => e.user_id !== TARGET)
        .map((e) => e.event_id)
        .sort(),
    );
    expect(await getRawEventModel(mongo()).countDocuments({ site_id: 'bystander', user_id: TARGET })).toBe(
      250,
    );
    // Queue: the target-only job and the failed job are gone; the mixed one keeps only the other user's event.
    expect(await system.queue.getJob(onlyTarget.id!)).toBeUndefined();
    expect(await system.queue.getFailedCount()).toBe(0);
    const rewritten = (await system.queue.getJob(mixed.id!))!.data as IngestEventsJob & {
      requests: { events: { event_id: string }[] }[];
    };
    expect(rewritten.requests.flatMap((r) => r.events.map((e) => e.event_id))).toEqual(['w-4']);
    // Sets: one pseudonym in every bucket the user had, nothing else changed.
    const rollupsAfter = await userRollups('erase');
    expect(rollupsAfter).toHaveLength(rollupsBefore.length);
    expect(rollupsAfter.filter((r) => r.user_id === TARGET)).toHaveLength(0);
    const pseudonyms = new Set(
      rollupsAfter.filter((r) => !rollupsBefore.some((b) => b._id === r._id)).map((r) => r.user_id),
    );
    expect(pseudonyms.size).toBe(1);
    const [pseudonym] = [...pseudonyms] as [string];
    expect(pseudonym).not.toContain(TARGET);
    const bucketsOf = (docs: RollupDocument[]) => docs.map((r) => `${r.period}|${r.bucket}`).sort();
    expect(bucketsOf(rollupsAfter.filter((r) => r.user_id === pseudonym))).toEqual(
      bucketsOf(targetRollupsBefore),
    );
    expect(
      await getWriteManifestModel(mongo()).countDocuments({
        'users.user_id': TARGET,
        'users.site_id': 'erase',
      }),
    ).toBe(0);
    // Visit parts: the target's moved to the pseudonym with their counts, the others' untouched.
    expect(await partsOf('erase', `u:${TARGET}`)).toEqual([]);
    expect(await partsOf('erase', `u:${pseudonym}`)).toEqual(targetPartsBefore);
    expect(await partsOf('erase', 'u:u-a')).toEqual(otherPartsBefore);
    expect(await partsOf('bystander', `u:${TARGET}`)).toEqual(bystanderPartsBefore);
    expect(await visitorQuery('erase', site.read_key)).toEqual(queryBefore);
    // Every number of /stats is what it was, on both sites.
    expect(await statsOf('erase', site.read_key)).toEqual(statsBefore);
    expect(await statsOf('bystander', bystander.read_key)).toEqual(bystanderStatsBefore);
    // The audit record: who, when, which site, the user as a hash only; the request forgets the id.
    const hash = createHash('sha256').update(`erase\u0000${TARGET}`).digest('hex');
    const audit = await getAuditRecordModel(mongo()).find({}).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      _id: `user-erasure:${body.request_id}`,
      action: 'user-erasure',
      site_id: 'erase',
      user_id_hash: hash,
      requested_by: 'admin-key',
      requested_at: expect.any(Date),
      completed_at: expect.any(Date),
      counts: expect.objectContaining({
        events: targetEvents.length,
        jobs_removed: 2,
        rollups: targetRollupsBefore.length,
        visit_parts: targetPartsBefore.length,
      }),
    });
    // Completed jobs kept for inspection lose the user's events too (the mixed waiting job and those).
    expect(audit[0]!.counts.jobs_rewritten).toBeGreaterThanOrEqual(1);
    const kept = await system.queue.getJobs(['completed', 'waiting', 'failed', 'delayed']);
    expect(kept.length).toBeGreaterThan(1);
    const keptOfTarget = kept
      .flatMap((job) => requestsOf(job.data as IngestEventsJob))
      .flatMap((request) => request.events)
      .filter((event) => event.site_id === 'erase' && event.user_id === TARGET);
    expect(keptOfTarget).toHaveLength(0);
    const request = await getUserErasureModel(mongo()).findById(body.request_id).lean();
    expect(request).toMatchObject({ status: 'done', user_id_hash: hash });
    for (const doc of [...audit, request]) {
      expect(JSON.stringify(doc)).not.toContain(TARGET);
      expect(JSON.stringify(doc)).not.toContain(pseudonym);
    }
    const events = await system.report
      .get(`/users/${encodeURIComponent(TARGET)}/events`)
      .query({ site_id: 'erase' })
      .set(admin);
    expect(events.body).toEqual({ events: [], next_cursor: null });

    // Erasing again, once done: a new request that finds nothing and changes nothing.
    const repeat = await system.report
      .delete(`/users/${encodeURIComponent(TARGET)}`)
      .query({ site_id: 'erase' })
      .set(admin);
    expect(repeat.status).toBe(202);
    expect((repeat.body as { request_id: string }).request_id).not.toBe(body.request_id);
    await waitFor(
      async () => {
        const status = await system.report
          .get(`/user-erasures/${(repeat.body as { request_id: string }).request_id}`)
          .set(admin);
        return (status.body as { status: string }).status === 'done' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the second erasure to be done' },
    );
    expect(await userRollups('erase')).toEqual(rollupsAfter);
    expect(await statsOf('erase', site.read_key)).toEqual(statsBefore);
    expect(await getAuditRecordModel(mongo()).countDocuments({})).toBe(2);
  }, 120_000);

  it('when the key is not the admin key, the site is unknown or the request id malformed, then 401, 404, 400', async () => {
    const site = await createSite('erase-auth');
    const reader = await system.report
      .delete('/users/u1')
      .query({ site_id: 'erase-auth' })
      .set('authorization', `Bearer ${site.read_key}`);
    expect(reader.status).toBe(401);
    expect((await system.report.delete('/users/u1').query({ site_id: 'erase-auth' })).status).toBe(401);
    expect((await system.report.delete('/users/u1').query({ site_id: 'nope' }).set(admin)).status).toBe(404);
    expect((await system.report.delete('/users/u1').set(admin)).status).toBe(400);
    expect((await system.report.get('/user-erasures/not-an-id').set(admin)).status).toBe(400);
    expect(
      (await system.report.get('/user-erasures/00000000-0000-4000-8000-000000000000').set(admin)).status,
    ).toBe(404);
    expect(await getUserErasureModel(mongo()).countDocuments({})).toBe(0);
  });
});
