import type { BadRequest } from './raw-http';

/** What a client could get wrong around the body: headers, routes and methods, reporting's queries and keys. */
export function wireCorpus(siteId: string, writeKey: string, readKey: string): BadRequest[] {
  const json = { 'content-type': 'application/json', 'x-api-key': writeKey };
  const good = { site_id: siteId, event_type: 'page_view', path: '/ok' };
  const corpus: BadRequest[] = [];
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
