import type mongoose from 'mongoose';
import { waitForMessage, type NodeChild } from './processes';

/**
 * What a worker process (the project's processor, or the naive peer's worker) reports about itself over
 * IPC, so the bench can take the difference between two points: CPU of the process, MongoDB round trips
 * seen by the driver's command monitoring, jobs and events done.
 */
export interface WorkerFigures {
  /** process.cpuUsage(): user + system, microseconds. */
  cpuMicros: number;
  /** MongoDB commands started (each is one round trip). */
  commands: number;
  commandsByName: Record<string, number>;
  /** Sum of the driver-measured durations of the finished commands (ms): the database's share of the time. */
  dbMillis: number;
  jobs: number;
  events: number;
  failedJobs: number;
  rssBytes: number;
  /** Date.now() when the figures were taken. */
  at: number;
}

type HostCommand = 'figures' | 'pause' | 'resume' | 'wait';

interface HostRequest {
  bench: 'request';
  id: number;
  command: HostCommand;
  /** 'wait': answer once this many events are done (no polling, so no IPC work in the measured time). */
  events?: number;
}

interface HostReply {
  bench: 'reply';
  id: number;
  figures?: WorkerFigures;
  error?: string;
}

function isHostRequest(message: unknown): message is HostRequest {
  return typeof message === 'object' && message !== null && (message as HostRequest).bench === 'request';
}

function isHostReply(message: unknown): message is HostReply {
  return typeof message === 'object' && message !== null && (message as HostReply).bench === 'reply';
}

/** Counts the commands a MongoClient sends; the client must have been created with monitorCommands. */
export class CommandCounter {
  commands = 0;
  dbMillis = 0;
  readonly byName: Record<string, number> = {};

  attach(client: mongoose.mongo.MongoClient): void {
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
  jobsDone(): { jobs: number; events: number; failedJobs: number };
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** Progress of a worker host: call `done()` after every completed or failed job. */
export interface HostProgress {
  done(): void;
}

/** In the worker process: answers the bench's requests. */
export function serveWorkerHost(controls: HostControls): HostProgress {
  const waiting: { events: number; resolve: () => void }[] = [];
  const progress: HostProgress = {
    done() {
      if (waiting.length === 0) return;
      const { events, failedJobs } = controls.jobsDone();
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (events >= waiting[i]!.events || failedJobs > 0) waiting.splice(i, 1)[0]!.resolve();
      }
    },
  };
  process.on('message', (message: unknown) => {
    if (!isHostRequest(message)) return;
    const reply = (extra: Partial<HostReply>): void => {
      process.send?.({ bench: 'reply', id: message.id, ...extra } satisfies HostReply);
    };
    const run = async (): Promise<void> => {
      if (message.command === 'pause') await controls.pause();
      if (message.command === 'resume') await controls.resume();
      if (message.command === 'wait') {
        const events = message.events ?? 0;
        const state = controls.jobsDone();
        if (state.events < events && state.failedJobs === 0) {
          await new Promise<void>((resolve) => waiting.push({ events, resolve }));
        }
      }
      const cpu = process.cpuUsage();
      reply({
        figures: {
          cpuMicros: cpu.user + cpu.system,
          commands: controls.counter.commands,
          commandsByName: { ...controls.counter.byName },
          dbMillis: controls.counter.dbMillis,
          ...controls.jobsDone(),
          rssBytes: process.memoryUsage.rss(),
          at: Date.now(),
        },
      });
    };
    run().catch((error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }));
  });
  return progress;
}

/** In the bench: drives a worker host. */
export class WorkerHostClient {
  private nextId = 1;

  constructor(readonly host: NodeChild) {}

  async call(command: HostCommand, timeoutMs = 30_000, events?: number): Promise<WorkerFigures> {
    const id = this.nextId++;
    const reply = waitForMessage(
      this.host,
      (message) => (isHostReply(message) && message.id === id ? message : undefined),
      timeoutMs,
      `a reply to "${command}"`,
    );
    this.host.child.send({ bench: 'request', id, command, events } satisfies HostRequest);
    const answer = await reply;
    if (answer.error !== undefined || !answer.figures) {
      throw new Error(`${this.host.name}: "${command}" failed: ${answer.error ?? 'no figures'}`);
    }
    return answer.figures;
  }

  figures(): Promise<WorkerFigures> {
    return this.call('figures');
  }

  /** Resolves with the figures once at least `events` events are done; fails if a job failed. */
  async waitForEvents(events: number, timeoutMs: number): Promise<WorkerFigures> {
    const figures = await this.call('wait', timeoutMs, events);
    if (figures.failedJobs > 0) throw new Error(`${this.host.name}: ${figures.failedJobs} job(s) failed`);
    return figures;
  }
}

/** The difference between two sets of figures, per event and per 1,000 events. */
export interface WorkerDelta {
  events: number;
  jobs: number;
  seconds: number;
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  roundTripsPer1000Events: number;
  dbMillisPer1000Events: number;
  commandsByName: Record<string, number>;
}

export function workerDelta(before: WorkerFigures, after: WorkerFigures): WorkerDelta {
  const events = after.events - before.events;
  const seconds = (after.at - before.at) / 1000;
  const byName: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.commandsByName)) {
    const delta = count - (before.commandsByName[name] ?? 0);
    if (delta > 0) byName[name] = delta;
  }
  const per = (value: number, scale: number): number => (events > 0 ? (value * scale) / events : 0);
  return {
    events,
    jobs: after.jobs - before.jobs,
    seconds,
    eventsPerSecond: seconds > 0 ? events / seconds : 0,
    cpuMicrosPerEvent: per(after.cpuMicros - before.cpuMicros, 1),
    roundTripsPer1000Events: per(after.commands - before.commands, 1000),
    dbMillisPer1000Events: per(after.dbMillis - before.dbMillis, 1000),
    commandsByName: byName,
  };
}
