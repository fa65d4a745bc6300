import { buildEvent } from '../fixtures/events';
import { expectErrorBody } from '../../../tests/support/error-body';
import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

let h: IngestionHarness;

beforeAll(async () => {
  h = await startIngestionHarness({ RATE_LIMIT_SITE_PER_SECOND: '0' });
});
afterAll(async () => {
  await h.close();
});

describe('POST /events', () => {
  it('when 500 valid events are sent, then 202 with their ids in order, enqueued as one job', async () => {
    const before = (await h.enqueuedRequests()).length;
    const events = Array.from({ length: 500 }, (_, i) =>
      buildEvent(
        h.site.siteId,
        i % 3 === 0 ? { event_id: undefined, event_type: 'click', path: undefined } : {},
      ),
    );
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(202);
    expect(res.body.success).toBe(true);
    expect(res.body.accepted).toBe(500);
    expect(res.body.event_ids).toHaveLength(500);
    events.forEach((event, i) => {
      if (event.event_id !== undefined) expect(res.body.event_ids[i]).toBe(event.event_id);
    });
    const requests = await h.enqueuedRequests();
    expect(requests).toHaveLength(before + 1);
    const request = requests.at(-1)!;
    expect(request.events.map((e) => e.event_id)).toEqual(res.body.event_ids);
    expect(request.request_id).toBe(res.headers['x-request-id']);
  });

  it('when one event among 500 is invalid, then 400 names events[i].field and nothing is enqueued', async () => {
    const before = (await h.jobs()).length;
    const events = Array.from({ length: 500 }, () => buildEvent(h.site.siteId));
    events[317] = { ...events[317], path: 'no-leading-slash' };
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed' });
    expect(res.body.details).toEqual([{ field: 'events[317].path', message: expect.any(String) }]);
    expect(await h.jobs()).toHaveLength(before);
  });

  it('when events fall outside the accepted time window, then 400 names each events[i].timestamp and nothing is enqueued', async () => {
    const before = (await h.jobs()).length;
    const events = Array.from({ length: 5 }, () => buildEvent(h.site.siteId));
    events[1] = { ...events[1], timestamp: new Date(Date.now() - 8 * 86_400_000).toISOString() };
    events[3] = { ...events[3], timestamp: new Date(Date.now() + 600_000).toISOString() };
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed' });
    expect(res.body.details).toEqual([
      {
        field: 'events[1].timestamp',
        message: 'events[1].timestamp is older than the accepted age of 168 hours',
      },
      { field: 'events[3].timestamp', message: 'events[3].timestamp is more than 5 minutes in the future' },
    ]);
    expect(await h.jobs()).toHaveLength(before);
  });

  it('when an event carries an own __proto__ key in props, then 400 names it', async () => {
    const text = JSON.stringify({ events: [buildEvent(h.site.siteId, { props: { a: 1 } })] }).replace(
      '"props":{',
      '"props":{"__proto__":{"polluted":true},',
    );
    const res = await h.http
      .post('/events')
      .set('x-api-key', h.site.writeKey)
      .set('content-type', 'application/json')
      .send(text);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: ['events[0].props.__proto__'] });
  });

  it.each([
    ['no events', { events: [] }, 'events'],
    ['501 events', null, 'events'],
    ['events not an array', { events: {} }, 'events'],
    ['an event that is a string', { events: ['x'] }, 'events[0]'],
    ['an unknown top-level field', { events: [], extra: 1 }, 'extra'],
  ])('when the batch has %s, then 400 naming %s', async (_name, body, field) => {
    const payload = body ?? { events: Array.from({ length: 501 }, () => buildEvent(h.site.siteId)) };
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send(payload);
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed', fields: [field!] });
  });

  it('when events have errors, then the details name exactly their fields and nothing else is enqueued', async () => {
    const before = (await h.enqueuedRequests()).length;
    const events = [
      buildEvent(h.site.siteId),
      buildEvent(h.site.siteId, { user_id: '' }),
      { site_id: h.site.siteId },
      buildEvent(h.site.siteId, { event_type: 'pageview', path: undefined }),
    ];
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(400);
    expectErrorBody(res, { code: 'validation-failed' });
    const fields = (res.body as { details: { field: string }[] }).details.map((detail) => detail.field);
    expect(fields).toEqual(['events[1].user_id', 'events[2].event_type', 'events[3].path']);
    expect(await h.enqueuedRequests()).toHaveLength(before);
  });

  it('when the key is only in the body (sendBeacon), then 202', async () => {
    const res = await h.http
      .post('/events')
      .set('content-type', 'text/plain')
      .send(JSON.stringify({ write_key: h.site.writeKey, events: [buildEvent(h.site.siteId)] }));
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
  });

  it('when one event belongs to another site, then 401 naming it and nothing is enqueued', async () => {
    const before = (await h.jobs()).length;
    const events = [buildEvent(h.site.siteId), buildEvent('someone-else'), buildEvent(h.site.siteId)];
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(401);
    expectErrorBody(res, { code: 'invalid-write-key', fields: ['events[1].site_id'] });
    expect(await h.jobs()).toHaveLength(before);
  });

  it('when the body is over 1 MiB, then 413 and nothing is enqueued', async () => {
    const before = (await h.jobs()).length;
    const events = Array.from({ length: 300 }, () =>
      buildEvent(h.site.siteId, { referrer: 'r'.repeat(2000), path: `/${'p'.repeat(1600)}` }),
    );
    const res = await h.http.post('/events').set('x-api-key', h.site.writeKey).send({ events });
    expect(res.status).toBe(413);
    expectErrorBody(res, { code: 'payload-too-large' });
    expect(await h.jobs()).toHaveLength(before);
  });
});
