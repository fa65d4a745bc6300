import http from 'node:http';
import { getSiteModel, requestsOf, type IngestEventsJob } from '@analytics/common';
import { Cluster, type RunningService } from './support/cluster';

/** One raw request of the corpus: anything a client could put on the wire. */
interface BadRequest {
  name: string;
  target: 'ingestion' | 'reporting';
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(base: RunningService, request: BadRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const req = http.request(
      `${base.url}${request.path}`,
      {
        method: request.method,
        agent: false,
        timeout: 10_000,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...request.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within 10 s: ${request.name}`)));
    req.on('error', reject);
    req.end(body);
  });
}

function buildCorpus(siteId: string, writeKey: string, readKey: string): BadRequest[] {
  const json = { 'content-type': 'application/json', 'x-api-key': writeKey };
  const good = { site_id: siteId, event_type: 'page_view', path: '/ok' };
  const corpus: BadRequest[] = [];
  const event = (name: string, body: unknown) =>
    corpus.push({
      name,
      target: 'ingestion',
      method: 'POST',
      path: '/event',
      headers: json,
      body: JSON.stringify(body),
    });
  const batch = (name: string, body: unknown) =>
    corpus.push({
      name,
      target: 'ingestion',
      method: 'POST',
      path: '/events',
      headers: json,
      body: JSON.stringify(body),
    });

  // Wrong types for every field.
  const wrongValues: [string, unknown][] = [
    ['number', 42],
    ['boolean', true],
    ['null', null],
    ['array', ['x']],
    ['object', { a: 1 }],
  ];
  for (const field of [
    'site_id',
    'event_type',
    'path',
    'user_id',
    'timestamp',
    'event_id',
    'referrer',
    'props',
    'write_key',
  ]) {
    for (const [kind, value] of wrongValues) {
      if (field === 'props' && kind === 'object') continue;
      event(`${field} as ${kind}`, { ...good, [field]: value });
    }
  }
  // Nested operators.
  for (const operator of ['$ne', '$gt', '$where', '$regex', '$in']) {
    event(`site_id with ${operator}`, { ...good, site_id: { [operator]: '' } });
  }
  event('props value with an operator', { ...good, props: { a: { $gt: 1 } } });
  batch('events with an operator', { events: { $elemMatch: {} } });
  // Prototype pollution.
  for (const raw of [
    `{"__proto__":{"polluted":1},"site_id":"${siteId}","event_type":"x"}`,
    `{"constructor":{"prototype":{"polluted":1}},"site_id":"${siteId}","event_type":"x"}`,
    `{"site_id":"${siteId}","event_type":"x","props":{"__proto__":{"polluted":1}}}`,
    `{"site_id":"${siteId}","event_type":"x","props":{"constructor":"x","prototype":"y","__proto__":"z"}}`,
    `{"events":[{"__proto__":{"a":1},"site_id":"${siteId}","event_type":"x"}]}`,
  ]) {
    corpus.push({
      name: `prototype keys ${raw.slice(0, 30)}`,
      target: 'ingestion',
      method: 'POST',
      path: raw.includes('"events"') ? '/events' : '/event',
      headers: json,
      body: raw,
    });
  }
  // Huge and deeply nested bodies.
  corpus.push({
    name: 'body of 40 KiB',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: JSON.stringify({ ...good, referrer: 'r'.repeat(40_000) }),
  });
  corpus.push({
    name: 'batch of 2 MiB',
    target: 'ingestion',
    method: 'POST',
    path: '/events',
    headers: json,
    body: JSON.stringify({ events: [{ ...good, referrer: 'r'.repeat(2_000_000) }] }),
  });
  corpus.push({
    name: 'nested arrays 10000 deep',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: '['.repeat(10_000) + ']'.repeat(10_000),
  });
  corpus.push({
    name: 'nested objects in props',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: `{"site_id":"${siteId}","event_type":"x","props":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
  });
  corpus.push({
    name: '600 events',
    target: 'ingestion',
    method: 'POST',
    path: '/events',
    headers: json,
    body: JSON.stringify({ events: Array.from({ length: 600 }, () => good) }),
  });
  // Invalid UTF-8 and odd encodings.
  corpus.push({
    name: 'invalid UTF-8 in a string',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: Buffer.concat([
      Buffer.from(`{"site_id":"${siteId}","event_type":"x","user_id":"`),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}'),
    ]),
  });
  corpus.push({
    name: 'invalid UTF-8 as the whole body',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
  });
  corpus.push({
    name: 'latin1 charset',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'content-type': 'application/json; charset=latin1' },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'gzip without gzip',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'content-encoding': 'gzip' },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'unknown encoding',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'content-encoding': 'br2' },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'NUL bytes',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: json,
    body: `{"site_id":"${siteId}\u0000","event_type":"x"}`,
  });
  // Impossible dates.
  for (const timestamp of [
    '2025-02-30T10:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T10:60:00Z',
    '0000-00-00T00:00:00Z',
    '9999-12-31T23:59:59Z',
    'yesterday',
    '1731400000',
    '2025-01-01T10:00:00+25:00',
  ]) {
    event(`timestamp ${timestamp}`, { ...good, timestamp });
  }
  // Malformed JSON.
  for (const raw of [
    '{',
    '{"a":}',
    'nul',
    '"just a string"',
    '42',
    '[]',
    '{"site_id":"x",}',
    "{'site_id':'x'}",
  ]) {
    corpus.push({
      name: `malformed ${raw}`,
      target: 'ingestion',
      method: 'POST',
      path: '/event',
      headers: json,
      body: raw,
    });
  }
  // Header abuse.
  corpus.push({
    name: 'header of 20 KiB',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'x-junk': 'j'.repeat(20_000) },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'huge write key',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'x-api-key': 'k'.repeat(8000) },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'no content type',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { 'x-api-key': writeKey },
    body: JSON.stringify(good),
  });
  corpus.push({
    name: 'xml content type',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'content-type': 'application/xml' },
    body: '<a/>',
  });
  corpus.push({
    name: 'multipart',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x--',
  });
  corpus.push({
    name: 'weird request id',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'x-request-id': '<script>'.repeat(50) },
    body: '{',
  });
  corpus.push({
    name: 'forwarded-for spoof',
    target: 'ingestion',
    method: 'POST',
    path: '/event',
    headers: { ...json, 'x-forwarded-for': 'not-an-ip, 999.1.1.1' },
    body: '{',
  });
  // Unknown routes and methods.
  for (const [method, path] of [
    ['GET', '/event'],
    ['PUT', '/events'],
    ['DELETE', '/event'],
    ['PATCH', '/health'],
    ['GET', '/../../etc/passwd'],
    ['GET', '/%00'],
    ['POST', '/event/extra'],
    ['GET', `/${'a'.repeat(5000)}`],
  ] as const) {
    corpus.push({
      name: `ingestion ${method} ${path.slice(0, 20)}`,
      target: 'ingestion',
      method,
      path,
      headers: json,
    });
  }
  // Reporting.
  const bearer = { authorization: `Bearer ${readKey}` };
  for (const query of [
    '',
    'site_id[$ne]=x',
    `site_id=${siteId}&site_id=${siteId}`,
    `site_id=${siteId}&date[$gt]=2025-01-01`,
    `site_id=${siteId}&date=2025-02-30`,
    `site_id=${siteId}&date=9999-99-99`,
    `site_id=${siteId}&from=2025-01-01`,
    `site_id=${siteId}&from=2020-01-01&to=2025-01-01`,
    `site_id=${siteId}&to=2025-01-01&from=2025-02-01`,
    `site_id=${'s'.repeat(5000)}`,
    `site_id=${siteId}&__proto__=1`,
    `site_id=${siteId}&constructor[prototype][x]=1`,
    `site_id=%ff%fe`,
    `site_id=${siteId}&date=%00`,
  ]) {
    corpus.push({
      name: `stats ?${query.slice(0, 40)}`,
      target: 'reporting',
      method: 'GET',
      path: `/stats?${query}`,
      headers: bearer,
    });
  }
  for (const authorization of [
    'Bearer',
    'Bearer ',
    'Basic abc',
    `Bearer ${'k'.repeat(5000)}`,
    'Bearer a b c',
    `bearer ${readKey}x`,
  ]) {
    corpus.push({
      name: `stats auth ${authorization.slice(0, 15)}`,
      target: 'reporting',
      method: 'GET',
      path: `/stats?site_id=${siteId}`,
      headers: { authorization },
    });
  }
  const admin = {
    authorization: 'Bearer fault-suite-admin-key-0123456789',
    'content-type': 'application/json',
  };
  for (const body of [
    '{"name":{"$gt":""}}',
    '{"name":"x","site_id":"../../x"}',
    '{"__proto__":{"a":1},"name":"x"}',
    '[]',
    '{',
    `{"name":"${'n'.repeat(20_000)}"}`,
  ]) {
    corpus.push({
      name: `sites ${body.slice(0, 20)}`,
      target: 'reporting',
      method: 'POST',
      path: '/sites',
      headers: admin,
      body,
    });
  }
  corpus.push({
    name: 'sites without admin key',
    target: 'reporting',
    method: 'POST',
    path: '/sites',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"x"}',
  });
  corpus.push({
    name: 'sites as form',
    target: 'reporting',
    method: 'POST',
    path: '/sites',
    headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=x',
  });
  for (const [method, path] of [
    ['DELETE', '/sites'],
    ['GET', '/sites'],
    ['PUT', '/stats'],
    ['GET', '/admin'],
  ] as const) {
    corpus.push({ name: `reporting ${method} ${path}`, target: 'reporting', method, path, headers: bearer });
  }
  return corpus;
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
