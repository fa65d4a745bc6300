import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import express, { type Response } from 'express';
import { sendJson } from '@analytics/common';

/**
 * `npx tsc -b && node bench/dist/tools/ingest-answer-micro.js`: the CPU cost of POST /event's 202 answer
 * written with Express's `res.status(202).json(...)`, and with the same bytes written directly
 * (`sendJson`: JSON.stringify, the two headers `res.json` would set, `res.end`). The response has no
 * socket (its bytes stay in memory); "response only" is the cost of creating it. CPU time, median of 15 alternating
 * rounds, since the machine may be busy.
 */
const app = express();
app.set('etag', false);

/** A response without a socket: Node renders the headers and keeps the bytes (socket writes are noise here). */
function response(): Response {
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  const res = new ServerResponse(req);
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  Object.assign(res, { req });
  Object.assign(req, { res });
  return res as unknown as Response;
}

const answer = { success: true, event_id: '0b7c1b0e-6a8e-4d5c-9d1f-2f3e4a5b6c7d' };
const ways: Record<string, (res: Response) => void> = {
  'response only': (res) => res.destroy(),
  'res.status(202).json(...)': (res) => res.status(202).json(answer),
  'sendJson(res, 202, ...)': (res) => sendJson(res, 202, answer),
};

function microsPerAnswer(write: (res: Response) => void, answers: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < answers; i += 1) write(response());
  const { user, system } = process.cpuUsage(started);
  return (user + system) / answers;
}

for (const write of Object.values(ways)) microsPerAnswer(write, 20_000); // warm up
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 15; round += 1) {
  for (const [name, write] of Object.entries(ways))
    (rounds[name] ??= []).push(microsPerAnswer(write, 10_000));
}
console.log(`node ${process.version}`);
for (const [name, micros] of Object.entries(rounds)) {
  micros.sort((a, b) => a - b);
  const median = micros[Math.floor(micros.length / 2)]!;
  console.log(`${name.padEnd(40)} ${median.toFixed(2).padStart(8)} µs CPU/answer`);
}
