import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRawEventModel, getSiteModel } from '@analytics/common';
import { waitFor, type TestSite } from '@analytics/testkit';
import { waitForDrain } from './recount';
import type { TestSystem } from './system';

/**
 * What the tests of other products' clients share: giving a site its domains, and reading back what was
 * stored. Every check of stored state goes through `storedEvents` and `statsOf`, so moving them to the
 * query API (POST /api/v2/query) later changes this file only.
 */

/** A site's domains, as POST /sites or PATCH would set them; waits until ingestion's view has them. */
export async function setSiteDomains(system: TestSystem, site: TestSite, domains: string[]): Promise<void> {
  await getSiteModel(system.ingestion.mongo).collection.updateOne(
    { site_id: site.siteId },
    { $set: { domains, updated_at: new Date() } },
  );
  await system.ingestion.sites.refresh();
}

/** The fields of a raw event the tests compare (props as a plain object). */
export interface StoredEvent {
  event_id: string;
  event_type: string;
  path?: string;
  user_id?: string;
  visitor?: string;
  source?: string;
  referrer?: string;
  utm_source?: string;
  utm_campaign?: string;
  browser?: string;
  device?: string;
  country?: string;
  timestamp: Date;
  day: string;
  props: Record<string, unknown>;
}

/** The site's raw events once the queue has drained and at least `count` are stored, oldest first. */
export async function storedEvents(
  system: TestSystem,
  siteId: string,
  count: number,
): Promise<StoredEvent[]> {
  const model = getRawEventModel(system.ingestion.mongo);
  const docs = await waitFor(
    async () => {
      await waitForDrain(system.queue);
      const found = await model.find({ site_id: siteId }).sort({ timestamp: 1, event_id: 1 }).lean();
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${count} events of ${siteId} to be stored` },
  );
  return docs.map((doc) => {
    const { props, ...rest } = doc as unknown as StoredEvent & { props?: { key: string; value: unknown }[] };
    return { ...rest, props: Object.fromEntries((props ?? []).map(({ key, value }) => [key, value])) };
  });
}

/** GET /stats of one site for one or more UTC days. */
export async function statsOf(
  system: TestSystem,
  site: TestSite,
  from: string,
  to = from,
): Promise<{ total_views: number; unique_users: number; top_paths: { path: string; views: number }[] }> {
  const query = from === to ? `date=${from}` : `from=${from}&to=${to}`;
  const res = await system.report
    .get(`/stats?site_id=${site.siteId}&${query}`)
    .set('authorization', `Bearer ${site.readKey}`);
  expect(res.status).toBe(200);
  return res.body;
}

/**
 * The query API's rows for one site over the last two days in UTC (the clients send events timestamped
 * now), keyed by their dimension values joined with ` | `.
 */
export async function queryRows(
  system: TestSystem,
  site: TestSite,
  metrics: string[],
  dimensions: string[],
): Promise<Record<string, (number | null)[]>> {
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const res = await system.report
    .post('/api/v2/query')
    .set('authorization', `Bearer ${site.readKey}`)
    .send({ site_id: site.siteId, metrics, dimensions, date_range: [yesterday, today] });
  expect(res.status).toBe(200);
  const rows = res.body.results as { dimensions: string[]; metrics: (number | null)[] }[];
  return Object.fromEntries(rows.map((row) => [row.dimensions.join(' | '), row.metrics]));
}

/** A proxy in front of ingestion that can answer 503 after forwarding (the request reached Redis). */
export interface FlakyProxy {
  url: string;
  /** Bodies of the requests it received, in order. */
  bodies: string[];
  /** How many of the next requests it forwards but answers 503, as a stalled Redis would. */
  failNext: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const proxy: FlakyProxy = {
    url: '',
    bodies: [],
    failNext: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      proxy.bodies.push(body.toString('utf8'));
      const headers = { ...req.headers };
      delete headers.host;
      delete headers['content-length'];
      const fail = proxy.failNext > 0;
      if (fail) proxy.failNext -= 1;
      fetch(`${target}${req.url}`, { method: req.method, headers: headers as Record<string, string>, body })
        .then(async (answer) => {
          const text = await answer.text();
          if (fail) res.writeHead(503, { 'content-type': 'application/json' }).end('{"success":false}');
          else res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
