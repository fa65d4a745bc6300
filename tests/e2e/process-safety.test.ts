import {
  buildTestEnv,
  getFreePort,
  postJson,
  spawnService,
  waitForReady,
  type ServiceProcess,
} from '@analytics/testkit';

// These run the built services (dist/) as real processes: `npm test` builds first.
const running: ServiceProcess[] = [];
afterEach(() => running.splice(0).forEach((service) => service.kill()));

const SERVICES = ['ingestion_service', 'processor_service', 'reporting_service', 'cron_service'] as const;
const REQUEST_ID = 'fault-request-0123456789';

interface LogLine {
  level?: string;
  message?: string;
  fatal?: string;
  error?: string;
  error_name?: string;
  stack?: string;
  request_id?: string;
  reason?: string;
}

/** Every JSON log line the process wrote (a line that is not JSON fails the test: logs are JSON only). */
function logLines(service: ServiceProcess): LogLine[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogLine);
}

async function startWithFault(
  name: (typeof SERVICES)[number],
  fault: string,
): Promise<{ service: ServiceProcess; url: string }> {
  const port = await getFreePort();
  const env = buildTestEnv('safety', { LOG_LEVEL: 'info', PORT: String(port), PROCESS_FAULT: fault });
  const service = spawnService(name, env);
  running.push(service);
  await waitForReady(service);
  return { service, url: `http://127.0.0.1:${port}` };
}

describe('a service process when an error escapes every handler', () => {
  it.each(SERVICES)(
    '%s: when a promise rejects unhandled inside a request, then one error line names unhandledRejection with the request id and stack, and the process exits 1 through its shutdown',
    async (name) => {
      const { service, url } = await startWithFault(name, 'unhandled-rejection');
      const triggered = await postJson(`${url}/fault/process`, {}, { 'x-request-id': REQUEST_ID });
      expect(triggered.status).toBe(202);

      const { code, signal } = await service.exited;
      expect({ code, signal }).toEqual({ code: 1, signal: null });

      const lines = logLines(service);
      // Other error lines may follow from the shutdown itself (cron's interrupted job run, say).
      const errors = lines.filter(
        (line) => line.level === 'error' && JSON.stringify(line).includes('unhandled'),
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        fatal: 'unhandledRejection',
        error_name: 'InjectedProcessFault',
        error: 'injected by PROCESS_FAULT=unhandled-rejection',
        request_id: REQUEST_ID,
      });
      expect(errors[0]!.message).toContain('unhandledRejection');
      expect(errors[0]!.stack).toMatch(/InjectedProcessFault: injected by PROCESS_FAULT[\s\S]*\n\s+at /);
      // The normal shutdown ran to its end (closers included), not an abrupt exit.
      expect(lines.filter((line) => line.message === 'shutdown complete')).toEqual([
        expect.objectContaining({ reason: 'unhandledRejection' }),
      ]);
    },
    30_000,
  );

  it('when a callback throws uncaught, then one error line names uncaughtException and the process exits 1', async () => {
    const { service, url } = await startWithFault('reporting_service', 'uncaught-exception');
    expect((await postJson(`${url}/fault/process`, {}, { 'x-request-id': REQUEST_ID })).status).toBe(202);

    expect(await service.exited).toEqual({ code: 1, signal: null });
    const errors = logLines(service).filter(
      (line) => line.level === 'error' && JSON.stringify(line).includes('uncaught'),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      fatal: 'uncaughtException',
      error_name: 'InjectedProcessFault',
      request_id: REQUEST_ID,
    });
  });
});

describe('PROCESS_FAULT', () => {
  it('when it is not set, then POST /fault/process is an unknown route (404) and the process keeps running', async () => {
    const port = await getFreePort();
    const service = spawnService('reporting_service', buildTestEnv('safety', { PORT: String(port) }));
    running.push(service);
    await waitForReady(service);
    const answer = await postJson(`http://127.0.0.1:${port}/fault/process`, {});
    expect(answer.status).toBe(404);
    process.kill(service.pid, 'SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });

  it('when NODE_ENV=production, then the service refuses to start with one line naming PROCESS_FAULT', async () => {
    const service = spawnService(
      'reporting_service',
      buildTestEnv('safety', {
        NODE_ENV: 'production',
        ADMIN_API_KEY: 'admin-key-for-tests-0123456789',
        PORT: String(await getFreePort()),
        PROCESS_FAULT: 'unhandled-rejection',
      }),
    );
    running.push(service);
    expect((await service.exited).code).toBe(1);
    const lines = service.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('PROCESS_FAULT is refused when NODE_ENV=production');
  });
});
