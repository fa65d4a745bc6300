import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import {
  buildTestEnv,
  dropTestDatabase,
  insertTestSite,
  listenAppServer,
  type TestSite,
} from '@analytics/testkit';
import { startIngestion, type IngestionService } from '../../ingestion_service/src/service';
import { loadConfig as loadIngestionConfig } from '../../ingestion_service/src/config';
import { startProcessor, type ProcessorService } from '../../processor_service/src/service';
import { loadConfig as loadProcessorConfig } from '../../processor_service/src/config';
import { createApp as createReportingApp } from '../../reporting_service/src/app';
import { loadConfig as loadReportingConfig } from '../../reporting_service/src/config';

export interface SystemOptions {
  ingestionEnv?: Record<string, string>;
  processorEnv?: Record<string, string>;
  /** Start no processor in-process (a test runs it as a child process instead). */
  withoutProcessor?: boolean;
  now?: () => Date;
}

export interface TestSystem {
  /** The environment every service of this system shares (database, queue, prefix, Redis). */
  env: Record<string, string>;
  ingestion: IngestionService;
  processor?: ProcessorService;
  ingest: TestAgent;
  report: TestAgent;
  /** Where ingestion listens, for clients other than supertest (a browser). */
  ingestUrl: string;
  /** Where reporting listens, for a browser (the dashboard). */
  reportUrl: string;
  /** A queue handle for inspecting or adding jobs directly. */
  queue: Queue;
  newSite(): Promise<TestSite>;
  close(): Promise<void>;
}

export const ADMIN_API_KEY = 'admin-key-for-tests-0123456789';

/**
 * Ingestion, processor and reporting in this process, on the test Redis and MongoDB engine, sharing one
 * database, queue and prefix of their own: HTTP in, worker, HTTP out.
 */
export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const env = buildTestEnv('system');
  const ingestion = await startIngestion(
    loadIngestionConfig({
      ...env,
      SITE_REFRESH_INTERVAL_MS: '200',
      RATE_LIMIT_IP_PER_MINUTE: '0',
      RATE_LIMIT_SITE_PER_SECOND: '0',
      ...options.ingestionEnv,
    }),
  );
  const processor = options.withoutProcessor
    ? undefined
    : await startProcessor(loadProcessorConfig({ ...env, ...options.processorEnv }));
  const reportingConfig = loadReportingConfig({ ...env, ADMIN_API_KEY });
  const queue = new Queue(env.QUEUE_NAME!, {
    connection: { url: env.REDIS_URL!, maxRetriesPerRequest: null },
    prefix: env.REDIS_PREFIX,
  });
  // the servers the service processes run, not supertest's own
  const ingestServer = await listenAppServer(ingestion.app);
  const reportServer = await listenAppServer(
    createReportingApp({ config: reportingConfig, mongo: ingestion.mongo, now: options.now }),
  );
  return {
    env,
    ingestion,
    processor,
    ingest: supertest(ingestServer.server),
    ingestUrl: `http://127.0.0.1:${(ingestServer.server.address() as AddressInfo).port}`,
    report: supertest(reportServer.server),
    reportUrl: `http://127.0.0.1:${(reportServer.server.address() as AddressInfo).port}`,
    queue,
    async newSite() {
      const site = await insertTestSite(ingestion.mongo);
      await ingestion.sites.refresh();
      return site;
    },
    async close() {
      await ingestServer.close();
      await reportServer.close();
      for (const closer of processor?.closers ?? []) await closer.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await dropTestDatabase(ingestion.mongo);
      for (const closer of ingestion.closers) await closer.close();
    },
  };
}
