import { startIngestionHarness, type IngestionHarness } from '../fixtures/ingestion-harness';

let h: IngestionHarness;

beforeAll(async () => {
  h = await startIngestionHarness();
});
afterAll(async () => {
  await h.close();
});

/** The contract's budget for the tag. */
const MAX_GZIPPED_BYTES = 1536;

describe('GET /js/script.js', () => {
  it('when a page loads the tag, then it is JavaScript, cacheable with an ETag, readable cross-origin, and within 1.5 kB gzipped', async () => {
    const res = await h.http.get('/js/script.js').set('Accept-Encoding', 'gzip').buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers['content-encoding']).toBe('gzip');
    const gzippedBytes = Number(res.headers['content-length']);
    expect(gzippedBytes).toBeGreaterThan(200);
    expect(gzippedBytes).toBeLessThanOrEqual(MAX_GZIPPED_BYTES);
    // supertest unzips the body; its text is the tag, which reads its own attributes.
    expect(res.text).toContain('data-write-key');
  });

  it('when the browser revalidates with the ETag, then 304 without a body; with another tag, then 200', async () => {
    const first = await h.http.get('/js/script.js');
    const again = await h.http.get('/js/script.js').set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
    expect(again.text ?? '').toBe('');
    const other = await h.http.get('/js/script.js').set('If-None-Match', '"something-else"');
    expect(other.status).toBe(200);
    expect(other.text).toBe(first.text);
  });

  it('when a client does not accept gzip, then the plain script is sent', async () => {
    const res = await h.http.get('/js/script.js').set('Accept-Encoding', 'identity');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
  });
});

describe('ingestion headers for browsers', () => {
  it('when a page on another origin preflights POST /event with x-api-key, then it is allowed and x-request-id is exposed', async () => {
    const res = await h.http
      .options('/event')
      .set('Origin', 'https://shop.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-api-key');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('x-api-key');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('when an event is posted, then the answer is readable cross-origin (no same-origin resource policy)', async () => {
    const res = await h.http
      .post('/event')
      .set('Origin', 'https://shop.example')
      .set('Content-Type', 'text/plain')
      .send(
        JSON.stringify({
          site_id: h.site.siteId,
          event_type: 'page_view',
          path: '/',
          write_key: h.site.writeKey,
        }),
      );
    expect(res.status).toBe(202);
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.headers['access-control-expose-headers']?.toLowerCase()).toContain('x-request-id');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
