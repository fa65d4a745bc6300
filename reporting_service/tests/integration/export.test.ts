import http from 'node:http';
import { parse } from 'csv-parse/sync';
import type { RawEventDocument } from '@analytics/common';
import { waitFor } from '@analytics/testkit';
import { expectErrorBody } from '../../../tests/support/error-body';
import { buildRawEvent, insertRawEvents } from '../fixtures/raw-events';
import { startReportingHarness, type ReportingHarness } from '../fixtures/reporting-harness';

const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';
const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
let h: ReportingHarness;

beforeAll(async () => {
  h = await startReportingHarness({ ADMIN_API_KEY });
});
afterAll(async () => {
  await h.close();
});

const COLUMNS = [
  'event_id',
  'timestamp',
  'event_type',
  'path',
  'user_id',
  'visitor',
  'referrer',
  'source',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'device',
  'browser',
  'os',
  'country',
  'props',
];

async function createSite(siteId: string, timezone = 'Etc/UTC'): Promise<{ read_key: string }> {
  const res = await h.http.post('/sites').set(admin).send({ name: siteId, site_id: siteId, timezone });
  expect(res.status).toBe(201);
  return res.body as { read_key: string };
}

/** Values a spreadsheet or a naive CSV writer gets wrong. */
const TRICKY = [
  'plain',
  '=HYPERLINK("http://x","y")',
  '+1',
  '-2',
  '@me',
  'comma, inside',
  'quote " inside',
  'line\nbreak',
  'cr\r\nlf',
  'ünïcødé 日本 🎉',
];

function propsOf(event: RawEventDocument): Record<string, unknown> {
  return Object.fromEntries((event.props ?? []).map((p) => [p.key, p.value]));
}

/** The row as the contract describes it, written here independently of the service's own mapping. */
function expectedCsvRow(event: RawEventDocument): string[] {
  const cell = (value: unknown): string => {
    const text = value === undefined || value === null ? '' : String(value);
    return /^[=+\-@]/.test(text) ? `'${text}` : text;
  };
  const record = event as unknown as Record<string, unknown>;
  return COLUMNS.map((column) => {
    if (column === 'timestamp') return event.timestamp.toISOString();
    if (column === 'props') return JSON.stringify(propsOf(event));
    return cell(record[column]);
  });
}

function byTimeThenId(a: RawEventDocument, b: RawEventDocument): number {
  return (
    a.timestamp.getTime() - b.timestamp.getTime() ||
    (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0)
  );
}

describe('GET /export', () => {
  // Asia/Kathmandu is UTC+05:45: the local days 2026-11-20..21 are [2026-11-19T18:15Z, 2026-11-21T18:15Z).
  const start = Date.parse('2026-11-19T18:15:00.000Z');
  const end = Date.parse('2026-11-21T18:15:00.000Z');
  const inRange: RawEventDocument[] = [];

  beforeAll(async () => {
    await createSite('exp-kat', 'Asia/Kathmandu');
    await createSite('exp-other');
    const span = end - start;
    for (let i = 0; i < 1600; i += 1) {
      const tricky = TRICKY[i % TRICKY.length]!;
      // Every fifth event shares its timestamp with the one before: ties go by event_id.
      const at = start + Math.floor(((i - (i % 5 === 4 ? 1 : 0)) * span) / 1600);
      inRange.push(
        buildRawEvent({
          site_id: 'exp-kat',
          event_id: `k${((i * 7919) % 100_000).toString(36)}-${i}`,
          timestamp: new Date(at),
          event_type: i % 3 === 0 ? 'signup' : 'page_view',
          path: i % 4 === 0 ? `/p/${tricky}` : `/page-${i % 13}`,
          ...(i % 2 === 0 ? { user_id: tricky } : {}),
          ...(i % 2 === 0 ? { visitor: `u:${tricky}` } : { visitor: `a:${i.toString(16)}` }),
          ...(i % 3 === 0
            ? { referrer: `news.example/${tricky}`, source: 'news.example' }
            : { source: 'Direct / None' }),
          ...(i % 7 === 0
            ? {
                utm_source: tricky,
                utm_medium: 'email',
                utm_campaign: '-sale',
                utm_term: '@t',
                utm_content: 'c,1',
              }
            : {}),
          device: i % 2 === 0 ? 'mobile' : 'desktop',
          browser: 'Firefox',
          os: 'Linux',
          ...(i % 5 === 0 ? { country: 'NP' } : {}),
          ...(i % 6 === 0
            ? {
                props: [
                  { key: 'plan', value: tricky },
                  { key: 'n', value: -3 },
                  { key: 'ok', value: true },
                ],
              }
            : {}),
        }),
      );
    }
    // The edges: the first instant is in, the first instant of the next day is out.
    inRange.push(buildRawEvent({ site_id: 'exp-kat', event_id: 'edge-first', timestamp: new Date(start) }));
    inRange.push(buildRawEvent({ site_id: 'exp-kat', event_id: 'edge-last', timestamp: new Date(end - 1) }));
    const outside = [
      buildRawEvent({ site_id: 'exp-kat', event_id: 'before', timestamp: new Date(start - 1) }),
      buildRawEvent({ site_id: 'exp-kat', event_id: 'after', timestamp: new Date(end) }),
      buildRawEvent({ site_id: 'exp-other', event_id: 'other-site', timestamp: new Date(start + 1000) }),
    ];
    await insertRawEvents(h.mongo, [...inRange, ...outside]);
    inRange.sort(byTimeThenId);
  });

  it('when 1,602 events are in the range, then the CSV has each exactly once, in order, cell by cell as stored', async () => {
    const res = await h.http
      .get('/export?site_id=exp-kat&from=2026-11-20&to=2026-11-21&format=csv')
      .set(admin)
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks).toString('utf8')));
      });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="exp-kat_2026-11-20_2026-11-21.csv"',
    );
    const text = res.body as string;
    expect(text.startsWith(`${COLUMNS.join(',')}\r\n`)).toBe(true);
    const rows = parse(text, { relax_column_count: false }) as string[][];
    expect(rows[0]).toEqual(COLUMNS);
    const body = rows.slice(1);
    expect(body).toHaveLength(inRange.length);
    expect(body.map((row) => row[0])).toEqual(inRange.map((event) => event.event_id));
    for (let i = 0; i < inRange.length; i += 1) expect(body[i]).toEqual(expectedCsvRow(inRange[i]!));
    // RFC 4180: a quote inside a cell is doubled and the cell quoted.
    expect(text).toContain('"quote "" inside"');
    expect(text).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
  });

  it('when format=ndjson, then one JSON object per line with every column, values as stored', async () => {
    const res = await h.http
      .get('/export?site_id=exp-kat&from=2026-11-20&to=2026-11-21&format=ndjson')
      .set(admin)
      .buffer(true)
      .parse((response, callback) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => callback(null, text));
      });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename=".*\.ndjson"$/);
    const lines = (res.body as string).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(inRange.length);
    lines.forEach((line, i) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      const event = inRange[i]!;
      expect(Object.keys(row)).toEqual(COLUMNS);
      expect(row.event_id).toBe(event.event_id);
      expect(row.timestamp).toBe(event.timestamp.toISOString());
      expect(row.user_id).toBe(event.user_id ?? null);
      expect(row.path).toBe(event.path ?? null);
      expect(row.utm_campaign).toBe(event.utm_campaign ?? null);
      expect(row.props).toEqual(propsOf(event));
    });
  });

  it('when the range holds no event, then the CSV is the header alone', async () => {
    const res = await h.http.get('/export?site_id=exp-kat&from=2026-10-01&to=2026-10-02').set(admin);
    expect(res.status).toBe(200);
    expect(res.text).toBe(`${COLUMNS.join(',')}\r\n`);
  });

  it('when the key is missing, a read key, or the input is bad, then 401, 401, 400 or 404', async () => {
    const site = await createSite('exp-auth');
    const none = await h.http.get('/export?site_id=exp-auth&from=2026-11-20&to=2026-11-20');
    expect(none.status).toBe(401);
    const reader = await h.http
      .get('/export?site_id=exp-auth&from=2026-11-20&to=2026-11-20')
      .set({ authorization: `Bearer ${site.read_key}` });
    expect(reader.status).toBe(401);
    expectErrorBody(reader, { code: 'invalid-api-key' });

    for (const [query, field] of [
      ['site_id=exp-auth&from=2026-11-21&to=2026-11-20', ''],
      ['site_id=exp-auth&from=2026-11-20&to=2026-11-20&format=xlsx', 'format'],
      ['site_id=exp-auth&from=2026-02-30&to=2026-03-01', 'from'],
      ['site_id[$ne]=x&from=2026-11-20&to=2026-11-20', 'site_id'],
      ['from=2026-11-20&to=2026-11-20', 'site_id'],
    ] as const) {
      const res = await h.http.get(`/export?${query}`).set(admin);
      expect(res.status).toBe(400);
      if (field) expectErrorBody(res, { code: 'validation-failed', fields: [field] });
    }
    const unknown = await h.http.get('/export?site_id=nope&from=2026-11-20&to=2026-11-20').set(admin);
    expect(unknown.status).toBe(404);
  });

  it('when the client goes away mid-export, then the export stops (cursor closed, counted as aborted) and the service keeps answering', async () => {
    // Large rows (20 props of 250 characters): far more than the socket buffers hold.
    const big = Array.from({ length: 20 }, (_, k) => ({ key: `k${k}`, value: 'x'.repeat(250) }));
    await createSite('exp-big');
    await insertRawEvents(
      h.mongo,
      Array.from({ length: 1500 }, (_, i) =>
        buildRawEvent({
          site_id: 'exp-big',
          event_id: `big-${i}`,
          timestamp: new Date(Date.UTC(2026, 10, 20, 0, 0, i)),
          props: big,
        }),
      ),
    );
    const exportsOf = async (outcome: string): Promise<number> => {
      const metric = await h.metrics.registry.getSingleMetric('analytics_exports_total')?.get();
      return (
        metric?.values.find((v) => v.labels.outcome === outcome && v.labels.format === 'csv')?.value ?? 0
      );
    };
    const completedBefore = await exportsOf('completed');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: h.port,
          path: '/export?site_id=exp-big&from=2026-11-20&to=2026-11-20',
          headers: admin,
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', (chunk: Buffer) => {
            received += chunk.length;
            // Stop reading, then hang up: the server must notice and stop.
            res.pause();
            setTimeout(() => {
              req.destroy();
              resolve();
            }, 200);
          });
        },
      );
      req.on('error', (error) =>
        (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(error),
      );
    });
    expect(received).toBeGreaterThan(0);

    await waitFor(async () => ((await exportsOf('aborted')) === 1 ? true : undefined), {
      what: 'the aborted export to be counted',
    });
    // It ended there: never read to the end.
    expect(await exportsOf('completed')).toBe(completedBefore);
    const after = await h.http.get('/export?site_id=exp-kat&from=2026-10-01&to=2026-10-01').set(admin);
    expect(after.status).toBe(200);
  });
});
