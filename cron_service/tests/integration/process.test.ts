import { spawn } from 'node:child_process';
import path from 'node:path';
import { DAY_MS, getRawEventModel, type TrackedEvent } from '@analytics/common';
import { getFreePort, REPO_ROOT, spawnService, waitForReady, type ServiceProcess } from '@analytics/testkit';
import { createRawEventRepository } from '../../../processor_service/src/repositories/raw-event.repository';
import { toRawEventDocument } from '../../../processor_service/src/services/raw-event-document.service';
import { CronHarness, cronTestEnv } from '../fixtures/cron-harness';

// These run the built service and CLI (dist/) as real processes: `npm test` builds first.
const CRON_DIR = path.join(REPO_ROOT, 'cron_service');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in cron_service/ with exactly the given environment on top of PATH. */
function run(command: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: CRON_DIR,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runJobCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return run(process.execPath, ['dist/run-job.js', ...args], env);
}

function events(count: number, daysAgo: number, prefix: string): TrackedEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    site_id: 'cli-site',
    event_id: `${prefix}-${i}`,
    event_type: 'page_view',
    path: `/p${i % 3}`,
    timestamp: new Date(Date.now() - daysAgo * DAY_MS - i * 60_000).toISOString(),
  }));
}

describe('npm run job -- <name>', () => {
  let harness: CronHarness;
  beforeEach(() => {
    harness = new CronHarness(
      cronTestEnv({ LOG_LEVEL: 'warn', RETENTION_BATCH_SIZE: '2', RETENTION_BATCH_PAUSE_MS: '0' }),
    );
  });
  afterEach(async () => {
    await harness.close();
  });

  it('when the job is retention, then it removes the old raw events, prints the outcome, records the run and exits 0', async () => {
    const mongo = await harness.mongo();
    const docs = [...events(5, 45, 'old'), ...events(3, 1, 'new')].map((event) =>
      toRawEventDocument({ event, requestId: 'seed', receivedAt: new Date() }),
    );
    await createRawEventRepository(mongo).insertOnce(docs, { writer: 'seed', seq: 1 });

    const result = await runJobCli(['retention'], harness.env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^retention: ok, removed 5, batches 3, old job runs removed 0, \d+ ms\n$/);
    expect(await getRawEventModel(mongo).countDocuments({})).toBe(3);
    expect(await harness.runs('retention')).toEqual([
      expect.objectContaining({ trigger: 'manual', outcome: 'ok', removed: 5, batches: 3 }),
    ]);
  });

  it('when the job is heartbeat, then it is recorded like a scheduled one and exits 0', async () => {
    const result = await runJobCli(['heartbeat'], harness.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^heartbeat: ok, removed 0, batches 0, \d+ ms\n$/);
    expect(await harness.runs('heartbeat')).toEqual([
      expect.objectContaining({ trigger: 'manual', outcome: 'ok', finished_at: expect.any(Date) }),
    ]);
  });

  it.each([[['vacuum']], [[]]])(
    'when the name is unknown or missing (%j), then it exits 1 with one line listing the valid names',
    async (args) => {
      const result = await runJobCli(args, harness.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/valid jobs: retention, heartbeat, site-deletion, user-erasure$/),
      ]);
    },
  );

  it('when run through npm with an unknown name, then npm exits 1 with the same line', async () => {
    const result = await run('npm', ['run', '--silent', 'job', '--', 'vacuum'], harness.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'unknown job "vacuum"; valid jobs: retention, heartbeat, site-deletion, user-erasure',
    );
  });

  it('when MongoDB cannot be reached, then it exits 1 with one line saying what to do', async () => {
    const port = await getFreePort();
    const result = await runJobCli(['heartbeat'], {
      ...harness.env,
      MONGODB_URI: `mongodb://127.0.0.1:${port}/x?serverSelectionTimeoutMS=500`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/MongoDB.*MONGODB_URI/)]);
  });
});

describe('cron_service as a process', () => {
  const running: ServiceProcess[] = [];
  let harness: CronHarness;
  beforeEach(() => {
    harness = new CronHarness(cronTestEnv({ LOG_LEVEL: 'warn' }));
  });
  afterEach(async () => {
    running.splice(0).forEach((service) => service.kill());
    await harness.close();
  });

  it.each([
    ['RETENTION_DAYS', '7'],
    ['HEARTBEAT_INTERVAL_MS', '10'],
  ])('when %s is %s, then it exits 1 with one line naming the variable', async (name, value) => {
    const service = spawnService('cron_service', { ...harness.env, [name]: value });
    running.push(service);
    expect((await service.exited).code).toBe(1);
    const lines = service.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });

  it('when Redis cannot be reached, then it exits 1 with one line saying what to do', async () => {
    const port = await getFreePort();
    const service = spawnService('cron_service', { ...harness.env, REDIS_URL: `redis://127.0.0.1:${port}` });
    running.push(service);
    expect((await service.exited).code).toBe(1);
    // The connection's own log line of the outage (once), then the one line saying what to do.
    const lines = service.output().trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/^cron_service: cannot reach Redis at .*REDIS_URL\.$/);
  }, 15_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'when it gets %s after its first runs, then it exits 0 within 10 s',
    async (signal) => {
      const service = spawnService('cron_service', { ...harness.env, PORT: String(await getFreePort()) });
      running.push(service);
      await waitForReady(service);
      await harness.waitForSuccess('heartbeat');
      const signalledAt = Date.now();
      process.kill(service.pid, signal);
      expect((await service.exited).code).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
    },
  );
});
