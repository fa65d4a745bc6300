import { runService } from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { startCron } from './service';

void runService({ name: SERVICE_NAME, loadConfig: () => loadConfig(), start: (config) => startCron(config) });
