import { runService } from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { startProcessor } from './service';

void runService({
  name: SERVICE_NAME,
  loadConfig: () => loadConfig(),
  start: async (config) => ({
    ...(await startProcessor(config)),
    describe: () => ({ concurrency: config.worker.concurrency }),
  }),
});
