import { setTimeout as sleep } from 'node:timers/promises';
import type mongoose from 'mongoose';
import { waitForMessage, type NodeChild } from './processes';

/**
 * What a worker process (the project's processor in peers/processor-host.ts, or the naive peer's worker)
 * reports over IPC, so the bench can take differences between two points in time.
 */
export interface WorkerFigures {
  /** process.cpuUsage(), user + system, µs. */
  cpuMicros: number;
  /** MongoDB commands started (each one round trip), from the driver's command monitoring. */
  commands: number;
  commandsByName: Record<string, number>;
  /** The driver-measured durations of finished commands (ms): the database's share of the time. */
  dbMillis: number;
  jobs: number;
  events: number;
  failedJobs: number;
  /** Date.now() when taken. */
  at: number;
}

type Command = 'figures' | 'pause' | 'resume';
interface HostRequest {
  benchRequest: number;
  command: Command;
}
interface HostReply {
  benchReply: number;
  figures?: WorkerFigures;
  error?: string;
}

/** Counts the commands of a MongoClient created with `monitorCommands` (a driver URI option). */
export class CommandCounter {
  commands = 0;
  dbMillis = 0;
  readonly byName: Record<string, number> = {};

  constructor(client: mongoose.mongo.MongoClient) {
    client.on('commandStarted', (event) => {
      this.commands += 1;
      this.byName[event.commandName] = (this.byName[event.commandName] ?? 0) + 1;
    });
    client.on('commandSucceeded', (event) => (this.dbMillis += event.duration));
    client.on('commandFailed', (event) => (this.dbMillis += event.duration));
  }
}

export interface HostControls {
  counter: CommandCounter;
  done(): { jobs: number; events: number; failedJobs: number };
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** In the worker process: answers the bench's requests with its figures. */
export function serveWorkerHost(controls: HostControls): void {
  process.on('message', (message: unknown) => {
    const request = message as Partial<HostRequest>;
    const id = request?.benchRequest;
    if (typeof id !== 'number') return;
    const reply = (answer: Omit<HostReply, 'benchReply'>): void => {
      process.send?.({ benchReply: id, ...answer } satisfies HostReply);
    };
    const run = async (): Promise<void> => {
      if (request.command === 'pause') await controls.pause();
      if (request.command === 'resume') await controls.resume();
      const cpu = process.cpuUsage();
      const { counter } = controls;
      reply({
        figures: {
          cpuMicros: cpu.user + cpu.system,
          commands: counter.commands,
          commandsByName: { ...counter.byName },
          dbMillis: counter.dbMillis,
          ...controls.done(),
          at: Date.now(),
        },
      });
    };
    run().catch((error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }));
  });
}

/** In the bench: drives a worker host. */
export class WorkerHost {
  private nextId = 1;

  constructor(private readonly host: NodeChild) {}

  async call(command: Command): Promise<WorkerFigures> {
    const id = this.nextId++;
    const answer = waitForMessage(
      this.host,
      (message) => ((message as Partial<HostReply>)?.benchReply === id ? (message as HostReply) : undefined),
      30_000,
      `a reply to "${command}"`,
    );
    this.host.child.send({ benchRequest: id, command } satisfies HostRequest);
    const { figures, error } = await answer;
    if (!figures) throw new Error(`${this.host.name}: "${command}" failed: ${error}`);
    return figures;
  }

  /** Polls (every 20 ms) until at least `events` events are done; fails if a job failed. */
  async waitForEvents(events: number, timeoutMs: number): Promise<WorkerFigures> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const figures = await this.call('figures');
      if (figures.failedJobs > 0) throw new Error(`${this.host.name}: ${figures.failedJobs} job(s) failed`);
      if (figures.events >= events) return figures;
      if (Date.now() > deadline)
        throw new Error(`${this.host.name}: ${figures.events} of ${events} events after ${timeoutMs} ms`);
      await sleep(20);
    }
  }
}

/** The difference between two sets of figures, per event and per 1,000 events. */
export interface WorkerDelta {
  events: number;
  jobs: number;
  seconds: number;
  cpuMicrosPerEvent: number;
  roundTripsPer1000Events: number;
  dbMillisPer1000Events: number;
  commandsByName: Record<string, number>;
}

export function workerDelta(before: WorkerFigures, after: WorkerFigures): WorkerDelta {
  const events = after.events - before.events;
  const per = (value: number, scale: number): number => (events > 0 ? (value * scale) / events : 0);
  const commandsByName = Object.fromEntries(
    Object.entries(after.commandsByName)
      .map(([name, count]) => [name, count - (before.commandsByName[name] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
  return {
    events,
    jobs: after.jobs - before.jobs,
    seconds: (after.at - before.at) / 1000,
    cpuMicrosPerEvent: per(after.cpuMicros - before.cpuMicros, 1),
    roundTripsPer1000Events: per(after.commands - before.commands, 1000),
    dbMillisPer1000Events: per(after.dbMillis - before.dbMillis, 1000),
    commandsByName,
  };
}
