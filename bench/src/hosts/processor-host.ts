import { runService } from '@analytics/common';
import { loadBuilt } from '../support/built';
import { CommandCounter, serveWorkerHost } from '../support/worker-host';

type ServiceModule = typeof import('../../../processor_service/src/service');
type ConfigModule = typeof import('../../../processor_service/src/config');

/**
 * The project's processor exactly as processor_service/src/index.ts runs it (runService with the same
 * config loader and startProcessor: same health server, signals and shutdown), plus what the bench
 * measures from inside: the process's CPU time, the MongoDB commands its driver sends (MONGODB_URI
 * carries monitorCommands=true, a driver URI option, so no service code changes), and the jobs and
 * events it completed.
 */
const { startProcessor } = loadBuilt<ServiceModule>('processor_service/dist/service.js');
const { loadConfig, SERVICE_NAME } = loadBuilt<ConfigModule>('processor_service/dist/config.js');

void runService({
  name: SERVICE_NAME,
  loadConfig: () => loadConfig(),
  start: async (config) => {
    const service = await startProcessor(config);
    const counter = new CommandCounter();
    counter.attach(service.mongo.getClient());
    let jobs = 0;
    let events = 0;
    let failedJobs = 0;
    const progress = serveWorkerHost({
      counter,
      jobsDone: () => ({ jobs, events, failedJobs }),
      pause: () => service.worker.pause(),
      resume: () => service.worker.resume(),
    });
    service.worker.on('completed', (_job, result: unknown) => {
      jobs += 1;
      const done = (result as { events?: unknown } | undefined)?.events;
      events += typeof done === 'number' ? done : 0;
      progress.done();
    });
    service.worker.on('failed', () => {
      failedJobs += 1;
      progress.done();
    });
    return service;
  },
});
