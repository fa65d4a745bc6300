import type { BadRequest } from './raw-http';

/** Bodies a client could send to ingestion: wrong types, operators, pollution, sizes, encodings, dates, JSON. */
export function bodyCorpus(siteId: string, writeKey: string): BadRequest[] {
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
  return corpus;
}
