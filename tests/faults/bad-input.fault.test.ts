import { getSiteModel, requestsOf, type IngestEventsJob } from '@analytics/common';
import { bodyCorpus } from './support/bad-input-bodies';
import { wireCorpus } from './support/bad-input-wire';
import { Cluster } from './support/cluster';
import { send, type BadRequest } from './support/raw-http';

function buildCorpus(siteId: string, writeKey: string, readKey: string): BadRequest[] {
  return [...bodyCorpus(siteId, writeKey), ...wireCorpus(siteId, writeKey, readKey)];
}

describe('bad-input corpus', () => {
  let cluster: Cluster;
  afterAll(async () => {
    await cluster.stop();
  });

  it('never answers 5xx, always with the contract error body, stores only what it answered 202 for, and leaves the services healthy', async () => {
    cluster = await new Cluster().start();
    const ingestion = await cluster.startService('ingestion_service');
    const reporting = await cluster.startService('reporting_service');
    const corpus = buildCorpus(cluster.site.siteId, cluster.site.writeKey, cluster.site.readKey);
    expect(corpus.length).toBeGreaterThanOrEqual(100);

    const problems: string[] = [];
    const statuses = new Map<number, number>();
    const acceptedIds: string[] = [];
    for (const request of corpus) {
      const res = await send(request.target === 'ingestion' ? ingestion : reporting, request);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 202) {
        const body = JSON.parse(res.text) as { event_id?: string; event_ids?: string[] };
        acceptedIds.push(...(body.event_ids ?? [body.event_id!]));
      }
      if (res.status >= 500) problems.push(`${request.name}: ${res.status} ${res.text.slice(0, 200)}`);
      if (res.status >= 400) {
        let body: Record<string, unknown> | undefined;
        try {
          body = JSON.parse(res.text) as Record<string, unknown>;
        } catch {
          problems.push(`${request.name}: ${res.status} without a JSON body: ${res.text.slice(0, 100)}`);
          continue;
        }
        const shapeOk =
          body.success === false &&
          typeof body.error === 'string' &&
          typeof body.code === 'string' &&
          /^[a-z]+(-[a-z]+)*$/.test(body.code) &&
          typeof body.request_id === 'string' &&
          body.request_id === res.headers['x-request-id'] &&
          Array.isArray(body.details);
        if (!shapeOk)
          problems.push(
            `${request.name}: ${res.status} body not in the contract's shape: ${res.text.slice(0, 200)}`,
          );
      }
    }
    process.stdout.write(
      `BAD INPUT: ${corpus.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
    );
    expect(problems).toEqual([]);

    // Still healthy and still taking good events.
    for (const service of [ingestion, reporting]) {
      const health = await fetch(`${service.url}/health`);
      expect(health.status).toBe(200);
    }
    const ok = await fetch(`${ingestion.url}/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': cluster.site.writeKey },
      body: JSON.stringify({ site_id: cluster.site.siteId, event_type: 'page_view', path: '/after' }),
    });
    expect(ok.status).toBe(202);
    acceptedIds.push(((await ok.json()) as { event_id: string }).event_id);

    // Nothing stored but what was answered 202 (no processor runs here, so every accepted job still waits),
    // and no prototype key (or what it carried) reached a stored payload.
    const jobs = await cluster.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active']);
    const enqueued = jobs.flatMap((job) =>
      requestsOf(job.data as IngestEventsJob).flatMap((request) => request.events.map((e) => e.event_id)),
    );
    expect(enqueued.sort()).toEqual([...acceptedIds].sort());
    for (const job of jobs) expect(JSON.stringify(job.data)).not.toMatch(/polluted|__proto__|"prototype"/);
    // No site was created by the corpus (every POST /sites in it is invalid or unauthorised).
    expect(statuses.get(201)).toBeUndefined();
    const sites = await getSiteModel(cluster.mongo).find({}).lean();
    expect(sites.map((site) => site.site_id)).toEqual([cluster.site.siteId]);
    expect(JSON.stringify(sites)).not.toMatch(/polluted|__proto__/);
  });
});
