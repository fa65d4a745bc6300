import { runService } from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { startReporting } from './service';

void runService({ name: SERVICE_NAME, loadConfig: () => loadConfig(), start: startReporting });
