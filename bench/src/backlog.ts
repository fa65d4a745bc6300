import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { cpuSeconds } from './processes';

/** MongoDB wire messages start with int32 messageLength, requestID, responseTo, opCode (little endian). */
const OP_MSG = 2013;
/** Connection handshakes and the driver's monitoring heartbeats: not the work being measured. */
const NOT_COUNTED = new Set(['hello', 'isMaster', 'ismaster']);

/** Splits a byte stream into wire messages. */
function messages(onMessage: (message: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
      onMessage(pending.subarray(0, pending.readInt32LE(0)));
      pending = pending.subarray(pending.readInt32LE(0));
    }
  };
}

/** An OP_MSG's command name: the first key of its body section (kind 0), after any document sequences. */
function commandName(message: Buffer): string | undefined {
  if (message.readInt32LE(12) !== OP_MSG) return undefined;
  let at = 20;
  while (at < message.length && message[at] === 1) at += 1 + message.readInt32LE(at + 1);
  if (message[at] !== 0) return undefined;
  const key = at + 6; // the kind byte, the document's length, the first element's type byte
  return message.toString('latin1', key, message.indexOf(0, key));
}

export interface MongoTraffic {
  /** Commands sent (each one round trip). */
  commands: number;
  byName: Record<string, number>;
  /** Time from each command to its reply (ms), summed: the database's share of the time. */
  millis: number;
}

/**
 * A TCP proxy between one process and MongoDB that counts the commands it sends, by name, and times
 * their replies, as the driver's command monitoring would, with no change to the process measured.
 */
export class MongoCommandProxy {
  readonly traffic: MongoTraffic = { commands: 0, byName: {}, millis: 0 };
  private readonly server = net.createServer((client) => this.connect(client));
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly mongoUri: string) {}

  /** Starts listening; resolves with `mongoUri` pointed at the proxy. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const url = new URL(this.mongoUri);
    url.host = `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return url.toString();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  snapshot(): MongoTraffic {
    return { ...this.traffic, byName: { ...this.traffic.byName } };
  }

  private connect(client: net.Socket): void {
    const target = new URL(this.mongoUri);
    const upstream = net.connect(Number(target.port), target.hostname);
    const sentAt = new Map<number, number>();
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const onCommand = (message: Buffer): void => {
      const name = commandName(message);
      if (name === undefined || NOT_COUNTED.has(name)) return;
      this.traffic.commands += 1;
      this.traffic.byName[name] = (this.traffic.byName[name] ?? 0) + 1;
      sentAt.set(message.readInt32LE(4), performance.now());
    };
    const onReply = (reply: Buffer): void => {
      const at = sentAt.get(reply.readInt32LE(8));
      if (at === undefined) return;
      sentAt.delete(reply.readInt32LE(8));
      this.traffic.millis += performance.now() - at;
    };
    client.on('data', messages(onCommand));
    upstream.on('data', messages(onReply));
    client.pipe(upstream).pipe(client);
  }
}

/** Waits until the queue holds no waiting (paused included), active or delayed job; fails on a failed job. */
export async function waitForEmptyQueue(queue: Queue, timeoutMs = 600_000): Promise<void> {
  const started = Date.now();
  let lastLog = started;
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    if (counts.failed) throw new Error(`${counts.failed} job(s) failed`);
    const left = Object.values(counts).reduce((a, b) => a + b, 0);
    if (left === 0) return;
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (Date.now() - started > timeoutMs) throw new Error(`${left} job(s) still queued after ${seconds} s`);
    if (Date.now() - lastLog >= 5000) {
      lastLog = Date.now();
      process.stderr.write(`  ${left} job(s) still queued after ${seconds} s\n`);
    }
    await sleep(20);
  }
}

/** A worker process: its PID (CPU from /proc) and the proxy its MongoDB traffic goes through. */
export interface Worker {
  pid: number;
  proxy: MongoCommandProxy;
}

interface WorkerSnapshot {
  cpuSeconds: number;
  traffic: MongoTraffic;
  at: number;
}

export const workerSnapshot = (worker: Worker): WorkerSnapshot => ({
  cpuSeconds: cpuSeconds(worker.pid),
  traffic: worker.proxy.snapshot(),
  at: Date.now(),
});

/** What a worker did between two snapshots, per event and per 1,000 events. */
export interface WorkerDelta {
  events: number;
  seconds: number;
  cpuMicrosPerEvent: number;
  roundTripsPer1000Events: number;
  dbMillisPer1000Events: number;
  commandsByName: Record<string, number>;
}

export function workerDelta(events: number, before: WorkerSnapshot, after: WorkerSnapshot): WorkerDelta {
  const per = (value: number, scale: number): number => (events > 0 ? (value * scale) / events : 0);
  const commandsByName: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.traffic.byName))
    commandsByName[name] = count - (before.traffic.byName[name] ?? 0);
  return {
    events,
    seconds: (after.at - before.at) / 1000,
    cpuMicrosPerEvent: per((after.cpuSeconds - before.cpuSeconds) * 1e6, 1),
    roundTripsPer1000Events: per(after.traffic.commands - before.traffic.commands, 1000),
    dbMillisPer1000Events: per(after.traffic.millis - before.traffic.millis, 1000),
    commandsByName,
  };
}

/** Pauses the queue, fills it, resumes it and times the worker until the queue is empty again. */
export async function drainBacklog(
  queue: Queue,
  worker: Worker,
  events: number,
  fill: () => Promise<void>,
): Promise<WorkerDelta> {
  await queue.pause();
  await fill();
  const before = workerSnapshot(worker);
  await queue.resume();
  await waitForEmptyQueue(queue);
  return workerDelta(events, before, workerSnapshot(worker));
}
