import {
  DAY_MS,
  HOUR_MS,
  dayBucket,
  getRawEventModel,
  getRollupModel,
  type TrackedEvent,
} from '@analytics/common';
import type { TestSite } from '@analytics/testkit';
import { toRawEventDocument } from '../../../processor_service/src/services/raw-event-document.service';
import { createEventStore } from '../../../processor_service/src/services/event-store.service';
import { waitForDrain } from '../../../tests/support/recount';
import { startSystem, type TestSystem } from '../../../tests/support/system';
import { loadConfig } from '../../src/config';
import { createCronJobs } from '../../src/jobs';
import { getJobRunModel } from '../../src/models/job-run.model';
import { createJobRunRepository } from '../../src/repositories/job-run.repository';
import { JobRunError, JobRunner } from '../../src/services/job-runner.service';

let sequence = 0;

/** Page views (and one custom event in five) spread over the hours of one UTC day. */
function eventsOfDay(site: TestSite, day: string, count: number): TrackedEvent[] {
  return Array.from({ length: count }, (_, i) => {
    sequence += 1;
    const event: TrackedEvent = {
      site_id: site.siteId,
      event_id: `r-${sequence}`,
      event_type: i % 5 === 4 ? 'signup' : 'page_view',
      user_id: `u${i % 6}`,
      timestamp: new Date(Date.parse(`${day}T00:00:00.000Z`) + (i % 24) * HOUR_MS + i * 1000).toISOString(),
    };
    if (event.event_type === 'page_view') event.path = `/p${i % 4}`;
    return event;
  });
}

/** Stores events the way the processor does (raw events and their rollups), for days ingestion refuses. */
async function storeAsProcessor(system: TestSystem, events: TrackedEvent[]): Promise<void> {
  const mongo = system.ingestion.mongo;
  const store = createEventStore(mongo, { adoptAfterMs: 30_000 });
  await store.store(
    events.map((event) => toRawEventDocument({ event, requestId: 'seed', receivedAt: new Date() })),
  );
}

describe('the retention job', () => {
  let system: TestSystem;
  let site: TestSite;
  const oldDay = dayBucket(new Date(Date.now() - 40 * DAY_MS));
  const keptDay = dayBucket(new Date(Date.now() - 20 * DAY_MS));

  beforeEach(async () => {
    system = await startSystem();
    site = await system.newSite();
  });
  afterEach(async () => {
    await system.close();
  });

  function runner(): JobRunner {
    return new JobRunner(createJobRunRepository(system.ingestion.mongo), 'test');
  }

  function retentionJob(env: Record<string, string>) {
    const config = loadConfig({ ...system.env, RETENTION_DAYS: '30', ...env });
    return createCronJobs(system.ingestion.mongo, config).retention;
  }

  async function stats(query: string): Promise<unknown> {
    const res = await system.report
      .get(`/stats?site_id=${site.siteId}${query}`)
      .set('authorization', `Bearer ${site.readKey}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  it('when raw events are older than RETENTION_DAYS, then they go in several batches, recent ones stay, rollups and /stats are unchanged', async () => {
    // Recent events through the real path: ingestion, queue, processor.
    const recent = eventsOfDay(site, dayBucket(new Date()), 12).map((e, i) => ({
      ...e,
      timestamp: new Date(Date.now() - i * 60_000).toISOString(),
    }));
    const res = await system.ingest.post('/events').set('x-api-key', site.writeKey).send({ events: recent });
    expect(res.status).toBe(202);
    await waitForDrain(system.queue);
    await storeAsProcessor(system, [...eventsOfDay(site, oldDay, 45), ...eventsOfDay(site, keptDay, 10)]);

    const raw = getRawEventModel(system.ingestion.mongo);
    expect(await raw.countDocuments({ day: oldDay })).toBe(45);
    const rollups = () => getRollupModel(system.ingestion.mongo).find({}).sort({ _id: 1 }).lean();
    const rollupsBefore = await rollups();
    const oldStatsBefore = await stats(`&date=${oldDay}`);
    const keptStatsBefore = await stats(`&date=${keptDay}`);
    const lastDayBefore = await stats('');
    expect(oldStatsBefore).toMatchObject({ total_views: 36, unique_users: 6 });

    const run = await runner().run(
      retentionJob({ RETENTION_BATCH_SIZE: '7', RETENTION_BATCH_PAUSE_MS: '1' }),
      {
        trigger: 'manual',
        signal: new AbortController().signal,
      },
    );

    expect(run).toMatchObject({ outcome: 'ok', removed: 45, batches: 7 });
    expect(await raw.countDocuments({ day: oldDay })).toBe(0);
    expect(await raw.countDocuments({ day: keptDay })).toBe(10);
    expect(await raw.countDocuments({ timestamp: { $gte: new Date(Date.now() - DAY_MS) } })).toBe(12);
    expect(await rollups()).toEqual(rollupsBefore);
    expect(await stats(`&date=${oldDay}`)).toEqual(oldStatsBefore);
    expect(await stats(`&date=${keptDay}`)).toEqual(keptStatsBefore);
    expect(await stats('')).toEqual(lastDayBefore);

    const recorded = await getJobRunModel(system.ingestion.mongo).find({ job: 'retention' }).lean();
    expect(recorded).toEqual([
      expect.objectContaining({
        trigger: 'manual',
        outcome: 'ok',
        removed: 45,
        batches: 7,
        history_removed: 0,
      }),
    ]);
    expect(recorded[0]!.finished_at!.getTime()).toBeGreaterThanOrEqual(recorded[0]!.started_at.getTime());

    // Nothing left to do: a second run removes nothing.
    const again = await runner().run(retentionJob({}), {
      trigger: 'manual',
      signal: new AbortController().signal,
    });
    expect(again).toMatchObject({ outcome: 'ok', removed: 0, batches: 0 });
  });

  it('when job runs are older than JOB_HISTORY_DAYS, then they are trimmed too', async () => {
    const runs = getJobRunModel(system.ingestion.mongo);
    const startedAt = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS);
    await runs.collection.insertMany(
      [40, 35, 31, 5, 1].map((daysAgo) => ({
        job: 'heartbeat',
        trigger: 'schedule',
        instance: 'old',
        started_at: startedAt(daysAgo),
        finished_at: startedAt(daysAgo),
        outcome: 'ok',
        removed: 0,
        batches: 0,
      })),
    );
    const run = await runner().run(retentionJob({ JOB_HISTORY_DAYS: '30', RETENTION_BATCH_SIZE: '2' }), {
      trigger: 'manual',
      signal: new AbortController().signal,
    });
    expect(run.history_removed).toBe(3);
    expect(await runs.countDocuments({ job: 'heartbeat' })).toBe(2);
  });

  it('when the service shuts down during a run, then the run stops between batches and is recorded as an error', async () => {
    await storeAsProcessor(system, eventsOfDay(site, oldDay, 30));
    const stop = new AbortController();
    const running = runner().run(
      retentionJob({ RETENTION_BATCH_SIZE: '5', RETENTION_BATCH_PAUSE_MS: '300' }),
      {
        trigger: 'schedule',
        signal: stop.signal,
      },
    );
    setTimeout(() => stop.abort(new Error('interrupted by shutdown')), 100);
    const error = await running.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(JobRunError);
    const failed = (error as JobRunError).run;
    expect(failed).toMatchObject({ outcome: 'error', error: 'interrupted by shutdown' });
    expect(failed.removed).toBeLessThan(30);
    const left = await getRawEventModel(system.ingestion.mongo).countDocuments({ day: oldDay });
    expect(left).toBe(30 - failed.removed);
    const [recorded] = await getJobRunModel(system.ingestion.mongo).find({ job: 'retention' }).lean();
    expect(recorded).toMatchObject({
      outcome: 'error',
      error: 'interrupted by shutdown',
      removed: failed.removed,
    });
  });
});
