import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS script run before npm ci
const { installReason } = require('../../scripts/bootstrap.js') as {
  installReason(root: string): string | undefined;
};

const run = promisify(execFile);
const CHECKOUT = path.resolve(__dirname, '..', '..');
const TOOLS = ['typescript/bin/tsc', 'jest/bin/jest.js', 'pm2/bin/pm2'];

type Packages = Record<string, { version?: string; resolved?: string; optional?: boolean; link?: boolean }>;

/** A checkout with the given package-lock.json and, unless `installed` is undefined, an installed one. */
function makeCheckout(wanted: Packages, installed?: Packages, tools = TOOLS): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-'));
  fs.writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ packages: wanted }));
  if (installed) {
    fs.mkdirSync(path.join(root, 'node_modules'));
    fs.writeFileSync(
      path.join(root, 'node_modules', '.package-lock.json'),
      JSON.stringify({ packages: installed }),
    );
    for (const tool of tools) {
      fs.mkdirSync(path.dirname(path.join(root, 'node_modules', tool)), { recursive: true });
      fs.writeFileSync(path.join(root, 'node_modules', tool), '');
    }
  }
  return root;
}

const JEST = { version: '30.5.2', resolved: 'https://registry.npmjs.org/jest/-/jest-30.5.2.tgz' };
const LOCK: Packages = {
  '': {},
  common: { version: '0.1.0' },
  'node_modules/@analytics/common': { resolved: 'common', link: true },
  'node_modules/jest': JEST,
  'node_modules/@parcel/watcher-darwin-arm64': { version: '2.5.1', optional: true },
};
const INSTALLED: Packages = {
  'node_modules/@analytics/common': { resolved: 'common', link: true },
  'node_modules/jest': JEST,
};

describe('scripts/bootstrap.js: when npm ci is needed', () => {
  const roots: string[] = [];
  const checkout = (wanted: Packages, installed?: Packages, tools?: string[]) => {
    const root = makeCheckout(wanted, installed, tools);
    roots.push(root);
    return root;
  };
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  it('when node_modules/ is missing, then it installs', () => {
    expect(installReason(checkout(LOCK))).toBe('there is no node_modules/ yet');
  });

  it('when node_modules/ matches the lock, except optional packages of other platforms, then it does not', () => {
    expect(installReason(checkout(LOCK, INSTALLED))).toBeUndefined();
  });

  it('when the lock wants another version, then it installs and names the package', () => {
    const newer = { ...LOCK, 'node_modules/jest': { ...JEST, version: '30.6.0' } };
    expect(installReason(checkout(newer, INSTALLED))).toBe(
      'package-lock.json changed since the last install: jest 30.5.2 → 30.6.0',
    );
  });

  it('when the lock adds a package or drops one, then it installs', () => {
    const added = { ...LOCK, 'node_modules/yaml': { version: '2.9.1' } };
    expect(installReason(checkout(added, INSTALLED))).toMatch(/yaml \(none\) → 2\.9\.1/);
    const { ['node_modules/jest']: _dropped, ...fewer } = LOCK;
    expect(installReason(checkout(fewer, INSTALLED))).toMatch(/jest is no longer wanted/);
  });

  it('when node_modules/ has no record of the install or lacks a tool, then it installs', () => {
    const root = checkout(LOCK, INSTALLED);
    fs.rmSync(path.join(root, 'node_modules', '.package-lock.json'));
    expect(installReason(root)).toMatch(/no record of what was installed/);
    expect(installReason(checkout(LOCK, INSTALLED, TOOLS.slice(1)))).toBe('node_modules/ lacks typescript');
  });

  it('when this checkout was installed by npm ci, then it does not', () => {
    expect(installReason(CHECKOUT)).toBeUndefined();
  });
});

/** Runs `scripts/bootstrap.js <command>` with a PATH holding only `sh` (so no redis-server); its failure. */
async function bootstrapWithoutRedis(
  command: 'test' | 'bench',
  extraEnv: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-bin-'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  try {
    return await run(process.execPath, ['scripts/bootstrap.js', command], {
      cwd: CHECKOUT,
      env: { PATH: bin, npm_lifecycle_event: command, ...extraEnv },
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

describe('scripts/bootstrap.js test: what npm cannot install', () => {
  it('when redis-server is not on the PATH, then one line says how to install it and it exits 1', async () => {
    // TEST_MONGODB_URI set: the bundled engine's platform check is not what this case is about.
    const failure = await bootstrapWithoutRedis('test', { TEST_MONGODB_URI: 'mongodb://x' });
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    const lines = failure!.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npm test: the tests start their own redis-server, and none is on the PATH/);
    expect(lines[0]).toContain('sudo apt-get install redis-server');
    expect(lines[0]).toContain('brew install redis');
  });
});

describe('scripts/bootstrap.js bench: what npm cannot install', () => {
  it('when redis-server is not on the PATH, then one line says the bench needs one and it exits 1', async () => {
    // BENCH_MONGODB_URI set: the bundled engine's platform check is not what this case is about.
    const failure = await bootstrapWithoutRedis('bench', { BENCH_MONGODB_URI: 'mongodb://x' });
    expect(failure?.code).toBe(1);
    const lines = failure!.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^npm run bench: the bench starts its own redis-server, and none is on the PATH/,
    );
  });
});
