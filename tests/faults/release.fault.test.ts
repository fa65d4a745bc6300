import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getFreePort, REPO_ROOT } from '@analytics/testkit';
import { waitForDrain } from '../support/recount';
import { ADMIN_API_KEY, Cluster } from './support/cluster';
import { checkLedger, Ledger, makeEvents } from './support/ledger';

/**
 * scripts/release.js against real releases under pm2: a temporary git repository cloned from this
 * checkout's HEAD gets two more commits, a broken one (the processor exits at start) and a good one.
 * Release 1 is HEAD; release 2 (broken) must roll back by itself while the old release keeps serving;
 * release 3 (good) must go live. POST /event runs throughout, and every 202 must end up stored, once.
 */
const RELEASE = path.join(REPO_ROOT, 'scripts', 'release.js');
let cluster: Cluster;
let work: string;
let env: Record<string, string>;
let ports: number[];

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
}

/** Runs the release script; resolves with its exit code and output (also echoed, for the CI log). */
function release(ref: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        RELEASE,
        ref,
        '--root',
        path.join(work, 'app'),
        '--repo',
        path.join(work, 'repo'),
        '--settle',
        '3',
        ...extra,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function currentRelease(): string {
  return path.basename(readlinkSync(path.join(work, 'app', 'current')));
}

beforeAll(async () => {
  cluster = await new Cluster().start();
  work = mkdtempSync(path.join(tmpdir(), 'release-test-'));
  const repo = path.join(work, 'repo');
  execFileSync('git', ['clone', '--quiet', REPO_ROOT, repo]);
  git(repo, 'config', 'user.email', 'release-test@example.invalid');
  git(repo, 'config', 'user.name', 'release test');
  // The same package-lock.json as this checkout: the script hard-links these modules instead of npm ci.
  execFileSync('cp', ['-al', path.join(REPO_ROOT, 'node_modules'), path.join(repo, 'node_modules')]);
  git(repo, 'tag', 'release-1');
  writeFileSync(
    path.join(repo, 'processor_service', 'src', 'index.ts'),
    "process.stderr.write('PROCESSOR_NEW_SETTING is required (a release that cannot start)\\n');\nprocess.exit(1);\n",
  );
  git(repo, 'commit', '--quiet', '-am', 'broken: the processor exits at start');
  git(repo, 'tag', 'release-2-broken');
  git(repo, 'checkout', '--quiet', 'release-1');
  writeFileSync(path.join(repo, 'RELEASE-3.md'), 'a good release\n');
  git(repo, 'add', 'RELEASE-3.md');
  git(repo, 'commit', '--quiet', '-m', 'good: a new release');
  git(repo, 'tag', 'release-3');

  ports = await Promise.all([1, 2, 3, 4].map(() => getFreePort()));
  mkdirSync(path.join(work, 'app', 'shared'), { recursive: true });
  const shared = {
    ...cluster.env,
    INGESTION_PORT: String(ports[0]),
    PROCESSOR_PORT: String(ports[1]),
    REPORTING_PORT: String(ports[2]),
    CRON_PORT: String(ports[3]),
  };
  writeFileSync(
    path.join(work, 'app', 'shared', 'release.env'),
    Object.entries(shared)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  env = { PATH: process.env.PATH ?? '', HOME: work, PM2_HOME: path.join(work, 'pm2') };
}, 60_000);

afterAll(async () => {
  if (work) {
    const pm2 = path.join(REPO_ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
    try {
      execFileSync(process.execPath, [pm2, 'kill'], { env, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // no daemon was started
    }
  }
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('scripts/release.js', () => {
  it('when a release breaks a service, then it rolls back and the old one keeps serving; a good one goes live with no failed POST /event', async () => {
    const ingestion = `http://127.0.0.1:${ports[0]}`;
    const reporting = `http://127.0.0.1:${ports[2]}`;

    const dry = await release('release-3', ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.output).toMatch(/would run: git clone/);
    expect(dry.output).toMatch(/would run: .*pm2.* startOrReload .* --only processor_service/);
    expect(dry.output).toMatch(/would poll http:\/\/127\.0\.0\.1:\d+\/health/);

    const first = await release('release-1');
    expect(first.code).toBe(0);
    const release1 = currentRelease();
    expect(first.output).toContain(`release ${release1} is live and healthy`);

    // POST /event without pause from here on: every answer is recorded.
    const ledger = new Ledger();
    let sending = true;
    const load = (async () => {
      while (sending) {
        // About 10 a second: enough to cross every reload, few enough for the test engine.
        for (const event of makeEvents(cluster.site.siteId, 5, 'release')) {
          await ledger.sendOne(ingestion, cluster.site.writeKey, event);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();

    const broken = await release('release-2-broken', ['--health-timeout', '20']);
    expect(broken.code).toBe(1);
    expect(broken.output).toMatch(/is NOT healthy after 20 s: .*processor_service/);
    expect(broken.output).toContain(`ROLLING BACK to ${release1}`);
    expect(broken.output).toContain(`rolled back: ${release1} is live and healthy again`);
    expect(currentRelease()).toBe(release1);
    const stats = await fetch(`${reporting}/stats?site_id=${cluster.site.siteId}`, {
      headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
    });
    expect(stats.status).toBe(200);

    const good = await release('release-3', ['--keep', '2']);
    expect(good.code).toBe(0);
    const release3 = currentRelease();
    // --keep 2: the live release and the newest other one (the broken) stay; release 1 is removed.
    expect(readdirSync(path.join(work, 'app', 'releases')).sort()).toEqual(
      [release3, broken.output.match(/as (\S+);/)![1]!].sort(),
    );
    expect(good.output).toContain(`removing old release ${release1}`);
    expect(release3).not.toBe(release1);
    expect(release3).toContain(git(path.join(work, 'repo'), 'rev-parse', 'release-3').slice(0, 10));

    sending = false;
    await load;
    await waitForDrain(cluster.queue, 120_000);
    const report = await checkLedger('releases with a rollback', ledger, cluster.mongo);
    expect(ledger.statuses.get(202)).toBeGreaterThan(300);
    // No POST /event failed: not during the broken release and its rollback, not during the good one.
    expect([...ledger.statuses.keys()]).toEqual([202]);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.rollupMismatches).toBe(0);
    expect(report.stored).toBe(report.accepted);
  }, 420_000);
});
