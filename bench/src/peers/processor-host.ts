import { runService } from '@analytics/common';
import { loadBuilt } from '../context';
import { CommandCounter, serveWorkerHost } from '../worker-host';

type ServiceModule = typeof import('../../../processor_service/src/service');
type ConfigModule = typeof import('../../../processor_service/src/config');

/**
 * The project's processor as processor_service/src/index.ts runs it (runService, the same config loader
 * and startProcessor: same health server, signals and shutdown), plus what the bench measures from
 * inside: the process's CPU, the MongoDB commands its driver sends (MONGODB_URI carries
 * monitorCommands=true, a driver URI option), the jobs and events it completed.
 */
const { startProcessor } = loadBuilt<ServiceModule>('processor_service/dist/service.js');
const { loadConfig, SERVICE_NAME } = loadBuilt<ConfigModule>('processor_service/dist/config.js');

void runService({
  name: SERVICE_NAME,
  loadConfig: () => loadConfig(),
  start: async (config) => {
    const service = await startProcessor(config);
    const counter = new CommandCounter(service.mongo.getClient());
    let jobs = 0;
    let events = 0;
    let failedJobs = 0;
    serveWorkerHost({
      counter,
      done: () => ({ jobs, events, failedJobs }),
      pause: () => service.worker.pause(),
      resume: async () => service.worker.resume(),
    });
    service.worker.on('completed', (_job, result: unknown) => {
      jobs += 1;
      const stored = (result as { events?: unknown } | undefined)?.events;
      events += typeof stored === 'number' ? stored : 0;
    });
    service.worker.on('failed', () => (failedJobs += 1));
    return service;
  },
});
