import { runService } from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { startIngestion } from './service';

void runService({
  name: SERVICE_NAME,
  loadConfig: () => loadConfig(),
  start: async (config) => {
    const service = await startIngestion(config);
    return { ...service, describe: () => ({ sites: service.sites.size }) };
  },
});
