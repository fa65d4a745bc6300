import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import express, { type Request, type RequestHandler, type Response } from 'express';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { bodyParserJsonBody, jsonBody, toAppError } from '@analytics/common';

interface Sent {
  headers: Record<string, string>;
  chunks: Buffer[];
  /** The client goes away after the chunks, before the end of the body. */
  abort?: boolean;
}

/** A request as Node's HTTP server hands it over, its body arriving chunk by chunk. */
function incoming({ headers, chunks, abort }: Sent): Request {
  const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  const req = new IncomingMessage(socket as never);
  Object.setPrototypeOf(req, express.request);
  req.method = 'POST';
  req.headers = headers;
  const send = async (): Promise<void> => {
    for (const chunk of chunks) {
      await new Promise((resolve) => setImmediate(resolve));
      req.push(chunk);
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (abort) {
      req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    } else {
      req.complete = true;
      req.push(null);
    }
  };
  void send();
  return req as Request;
}

/** What a chain ends in: the body, or the error as the error handler answers it (and its raw type). */
async function outcome(chain: RequestHandler[], sent: Sent): Promise<unknown> {
  const req = incoming(sent);
  const error = await new Promise<unknown>((resolve) => {
    let at = 0;
    const next = (failure?: unknown): void => {
      const handler = chain[at];
      at += 1;
      if (failure !== undefined || !handler) resolve(failure);
      else void handler(req, {} as Response, next);
    };
    next();
  });
  if (error === undefined) return { body: req.body as unknown };
  const { code, status, message, details } = toAppError(error);
  // What the error handler reads (and so the answer), and the raw error's own type and message.
  const raw = error as { type?: unknown; limit?: unknown; message?: unknown };
  return { error: { code, status, message, details, type: raw.type, limit: raw.limit, raw: raw.message } };
}

const LIMIT = '1kb';
const TYPES = ['application/json', 'text/plain'];
const json = (text: string | Buffer): Sent => {
  const body = Buffer.from(text);
  return {
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    chunks: [body],
  };
};
const withHeaders = (sent: Sent, headers: Record<string, string | undefined>): Sent => {
  const merged: Record<string, string> = { ...sent.headers };
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return { ...sent, headers: merged };
};
const BOM = '\uFEFF';
const PAGE_VIEW =
  '{"site_id":"shop","event_type":"page_view","path":"/a?b=1","props":{"plan":"pro","step":2}}';

/** Requests the hand-written reader takes, and what it must answer exactly as body-parser did. */
const readHere: [string, Sent][] = [
  ['a page view', json(PAGE_VIEW)],
  ['text/plain, as a beacon sends it', withHeaders(json(PAGE_VIEW), { 'content-type': 'text/plain' })],
  [
    'a content type in capitals with charset',
    withHeaders(json(PAGE_VIEW), { 'content-type': 'Application/JSON; Charset=UTF-8' }),
  ],
  ['content-encoding identity', withHeaders(json(PAGE_VIEW), { 'content-encoding': 'identity' })],
  ['a body in several chunks, split inside a character', { ...json('{"a":"€"}'), chunks: [] }],
  ['a UTF-8 BOM', json(`${BOM}${PAGE_VIEW}`)],
  ['two BOMs', json(`${BOM}${BOM}{}`)],
  ['only a BOM', json(BOM)],
  ['whitespace, then an object', json(' \r\n\t{"a":1}')],
  ['an array', json('[1,2]')],
  ['invalid JSON', json('{"a":')],
  ['null in strict mode', json('null')],
  ['a number in strict mode', json(' 42')],
  ['a string in strict mode', json('"x"')],
  ['only whitespace', json('   ')],
  ['invalid UTF-8', json(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]))],
  ['more bytes than the content length claims', withHeaders(json('{"a":1}'), { 'content-length': '3' })],
  ['fewer bytes than the content length claims', withHeaders(json('{"a":1}'), { 'content-length': '20' })],
  ['more bytes than the limit', withHeaders(json(`{"a":"${'x'.repeat(1100)}"}`), { 'content-length': '10' })],
  ['a client that goes away', { ...json(PAGE_VIEW), abort: true }],
];
// The split inside "€" (3 bytes): the decoder must see the whole body, not each chunk on its own.
const euro = Buffer.from('{"a":"€"}');
readHere[4]![1].chunks = [euro.subarray(0, 7), euro.subarray(7)];

/** Requests left to body-parser, unchanged. */
const leftToBodyParser: [string, Sent][] = [
  ['an empty body', json('')],
  [
    'no content length',
    withHeaders(json(PAGE_VIEW), { 'content-length': undefined, 'transfer-encoding': 'chunked' }),
  ],
  ['a content length above the limit', withHeaders(json(`{"a":"${'x'.repeat(1100)}"}`), {})],
  [
    'a charset other than UTF-8',
    withHeaders(json(PAGE_VIEW), { 'content-type': 'application/json; charset=utf-16' }),
  ],
  [
    'a charset iconv does not know',
    withHeaders(json(PAGE_VIEW), { 'content-type': 'application/json; charset=latin1' }),
  ],
  ['gzip', withHeaders(json(PAGE_VIEW), { 'content-encoding': 'gzip' })],
  ['another content type', withHeaders(json(PAGE_VIEW), { 'content-type': 'application/xml' })],
  ['no content type', withHeaders(json(PAGE_VIEW), { 'content-type': undefined })],
  [
    'a JSON type with parameters',
    withHeaders(json(PAGE_VIEW), { 'content-type': 'application/json; foo=bar' }),
  ],
];

describe('jsonBody', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each(readHere)(
    'when %s arrives, then it is read without body-parser, with the same outcome',
    async (_name, sent) => {
      const decoders = jest.spyOn(iconv, 'getDecoder');
      const ours = await outcome(jsonBody(LIMIT, TYPES), sent);
      expect(decoders).not.toHaveBeenCalled();
      expect(ours).toEqual(await outcome(bodyParserJsonBody(LIMIT, TYPES), sent));
    },
  );

  it.each(leftToBodyParser)('when %s arrives, then body-parser reads it as before', async (_name, sent) => {
    expect(await outcome(jsonBody(LIMIT, TYPES), sent)).toEqual(
      await outcome(bodyParserJsonBody(LIMIT, TYPES), sent),
    );
  });

  it('when the route takes application/json only, then text/plain is refused as before', async () => {
    const sent = withHeaders(json(PAGE_VIEW), { 'content-type': 'text/plain' });
    const ours = await outcome(jsonBody(LIMIT), sent);
    expect(ours).toEqual(await outcome(bodyParserJsonBody(LIMIT, ['application/json']), sent));
    expect(ours).toMatchObject({ error: { status: 415 } });
  });

  it('when any bytes arrive, in any chunks, then the outcome is what body-parser gave', async () => {
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
      fc.json().map((text) => Buffer.from(text)),
      fc
        .string({ unit: 'binary', maxLength: 20 })
        .map((text) => Buffer.from(`${BOM}{"s":${JSON.stringify(text)}}`)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.nat({ max: 40 }), async (body, splitAt) => {
        const sent = json(body);
        sent.chunks = [body.subarray(0, splitAt), body.subarray(splitAt)].filter((chunk) => chunk.length > 0);
        expect(await outcome(jsonBody(LIMIT, TYPES), sent)).toEqual(
          await outcome(bodyParserJsonBody(LIMIT, TYPES), sent),
        );
      }),
      { numRuns: 500 },
    );
  });
});
