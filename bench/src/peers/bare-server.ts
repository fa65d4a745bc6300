import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Queue } from 'bullmq';
import {
  createRedisConnection,
  DEFAULT_JOB_OPTIONS,
  JOBS,
  type IngestEventsJob,
  type TrackedEvent,
} from '@analytics/common';

/**
 * The ceilings: a bare node:http server that reads the body, parses the same JSON and answers 202
 * (BARE_MODE=parse), and the same with `await queue.add` of the project's job before answering
 * (BARE_MODE=enqueue): the most one process can do, without and with a durable enqueue.
 * No validation, no auth, no limits, no logging.
 */
const mode = process.env.BARE_MODE === 'enqueue' ? 'enqueue' : 'parse';
const port = Number(process.env.PORT);

const redis = mode === 'enqueue' ? createRedisConnection(process.env.REDIS_URL ?? '', 'producer') : undefined;
const queue = redis
  ? new Queue<IngestEventsJob>(process.env.QUEUE_NAME ?? 'bench-bare', {
      connection: redis,
      prefix: process.env.REDIS_PREFIX ?? 'bench',
      defaultJobOptions: { ...DEFAULT_JOB_OPTIONS },
    })
  : undefined;

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      reply(res, 400, '{"success":false}');
      return;
    }
    const eventId = randomUUID();
    const answer = `{"success":true,"event_id":"${eventId}"}`;
    if (!queue) {
      reply(res, 202, answer);
      return;
    }
    const receivedAt = new Date().toISOString();
    const job: IngestEventsJob = {
      v: 1,
      request_id: eventId,
      received_at: receivedAt,
      // The parsed event as it came (unchecked), so the job is as large as the project's.
      events: [{ ...(event as unknown as TrackedEvent), event_id: eventId, timestamp: receivedAt }],
    };
    queue.add(JOBS.ingestEvents, job).then(
      () => reply(res, 202, answer),
      () => reply(res, 503, '{"success":false}'),
    );
  });
});

server.listen(port, '127.0.0.1', () => process.send?.('ready'));

function stop(): void {
  server.close();
  server.closeAllConnections();
  void Promise.resolve(queue?.close())
    .then(() => redis?.quit())
    .finally(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
