import { Queue } from 'bullmq';
import {
  configureLogger,
  connectMongo,
  exitOnStartupFailure,
  loadConfigOrExit,
  redactUri,
} from '@analytics/common';
import { loadConfig, SERVICE_NAME } from './config';
import { createCronJobs, CRON_JOB_NAMES, isCronJobName } from './jobs';
import type { JobRunDocument } from './models/job-run.model';
import { createJobRunRepository } from './repositories/job-run.repository';
import { JobRunError, JobRunner } from './services/job-runner.service';
import { instanceName } from './services/instance-name.service';

/**
 * `npm run job -- <name>`: runs one job now, in this process (no cron service or Redis needed), records
 * the run in job_runs like a scheduled one, prints one line with the outcome and exits 0 or 1.
 */
function describe(run: JobRunDocument): string {
  const durationMs = (run.finished_at?.getTime() ?? Date.now()) - run.started_at.getTime();
  const parts = [
    `${run.job}: ${run.outcome ?? 'unfinished'}`,
    `removed ${run.removed}`,
    `batches ${run.batches}`,
  ];
  if (run.history_removed !== undefined) parts.push(`old job runs removed ${run.history_removed}`);
  parts.push(`${durationMs} ms`);
  if (run.error !== undefined) parts.push(`error: ${run.error}`);
  return parts.join(', ');
}

async function main(): Promise<number> {
  const name = process.argv[2];
  if (name === undefined || !isCronJobName(name)) {
    process.stderr.write(
      `${name === undefined ? 'no job named' : `unknown job "${name}"`}; valid jobs: ${CRON_JOB_NAMES.join(', ')}\n`,
    );
    return 1;
  }
  const config = loadConfigOrExit(() => loadConfig(), SERVICE_NAME);
  configureLogger({ service: `${SERVICE_NAME}:job`, level: config.logLevel });
  const mongo = await connectMongo(config.mongodbUri, { appName: 'cron_service:job' }).catch(
    (error: unknown) =>
      exitOnStartupFailure(
        SERVICE_NAME,
        `cannot reach MongoDB at ${redactUri(config.mongodbUri)}`,
        error,
        'Start MongoDB or set MONGODB_URI.',
      ),
  );
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new Error('interrupted by a signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Only user-erasure needs Redis (the events queue); the other jobs run without it.
  const eventsQueue =
    name === 'user-erasure'
      ? new Queue(config.queueName, {
          connection: { url: config.redis.url, maxRetriesPerRequest: 1 },
          prefix: config.redis.prefix,
        })
      : undefined;
  eventsQueue?.on('error', () => undefined);
  try {
    const runner = new JobRunner(createJobRunRepository(mongo), instanceName());
    const run = await runner.run(createCronJobs(mongo, config, undefined, eventsQueue)[name], {
      trigger: 'manual',
      signal: interrupt.signal,
    });
    process.stdout.write(`${describe(run)}\n`);
    return 0;
  } catch (error) {
    const line =
      error instanceof JobRunError
        ? describe(error.run)
        : `${name}: could not run (${error instanceof Error ? error.message : String(error)})`;
    process.stderr.write(`${line}\n`);
    return 1;
  } finally {
    await eventsQueue?.close().catch(() => undefined);
    await mongo.close();
  }
}

void main().then((code) => process.exit(code));
