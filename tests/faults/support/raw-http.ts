import http from 'node:http';
import type { RunningService } from './cluster';

/** One raw request of the corpus: anything a client could put on the wire. */
export interface BadRequest {
  name: string;
  target: 'ingestion' | 'reporting';
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function send(base: RunningService, request: BadRequest): Promise<RawResponse> {
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
