import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { bodyParserJsonBody, jsonBody } from '@analytics/common';
import { pageView } from '../fixtures';

/**
 * `npx tsc -b && node bench/dist/tools/ingest-body-micro.js`: the CPU cost of reading POST /event's body
 * (the bench's page view, 32 KiB limit) through jsonBody, and through the type check and body-parser as
 * jsonBody did before it read plain requests itself. Requests are simulated (an IncomingMessage over a
 * socket that is never written), so the figures include that overhead; "request only" measures it.
 * Rounds alternate, and the median of 15 rounds' CPU time is shown, since the machine may be busy.
 */
const body = Buffer.from(JSON.stringify(pageView('bench-site', 7)));
const TYPES = ['application/json', 'text/plain'];

function request(): Request {
  const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  const req = new IncomingMessage(socket as never);
  Object.setPrototypeOf(req, express.request);
  req.method = 'POST';
  req.headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  req.push(body);
  req.complete = true;
  req.push(null);
  return req as Request;
}

function run(chain: RequestHandler[]): Promise<void> {
  const req = request();
  return new Promise((resolve, reject) => {
    let at = 0;
    const next = (error?: unknown): void => {
      const handler = chain[at];
      at += 1;
      if (error !== undefined) reject(error instanceof Error ? error : new Error(String(error)));
      else if (handler) void handler(req, {} as Response, next);
      else resolve();
    };
    next();
  });
}

/** CPU time (user + system) of this process, not wall time: another process may share the cores. */
async function microsPerRequest(chain: RequestHandler[], requests: number): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i += 1) await run(chain);
  const { user, system } = process.cpuUsage(started);
  return (user + system) / requests;
}

async function main(): Promise<void> {
  const drain: RequestHandler = (req, _res, next) => {
    req.on('end', () => next());
    req.resume();
  };
  const chains: Record<string, RequestHandler[]> = {
    'request only (drained, not parsed)': [drain],
    'type check + body-parser (before)': bodyParserJsonBody('32kb', TYPES),
    'jsonBody (after)': jsonBody('32kb', TYPES),
  };
  for (const chain of Object.values(chains)) await microsPerRequest(chain, 10_000); // warm up
  const rounds: Record<string, number[]> = {};
  for (let round = 0; round < 15; round += 1) {
    for (const [name, chain] of Object.entries(chains)) {
      (rounds[name] ??= []).push(await microsPerRequest(chain, 5_000));
    }
  }
  console.log(`node ${process.version}`);
  for (const [name, micros] of Object.entries(rounds)) {
    micros.sort((a, b) => a - b);
    const median = micros[Math.floor(micros.length / 2)]!;
    console.log(`${name.padEnd(40)} ${median.toFixed(2).padStart(8)} µs CPU/request`);
  }
}

void main();
