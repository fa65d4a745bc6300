/**
 * Makes a checkout ready to run, so that `npm start` and `npm test` work on a fresh clone by themselves:
 *
 * 1. Node.js 20 or later, else one line saying so.
 * 2. What npm cannot install (the test suite's `redis-server`), else one line saying what to install and how.
 * 3. `npm ci` when node_modules/ is missing or does not match package-lock.json (says why).
 * 4. `tsc -b` and the esbuild bundles (the tracker, the dashboard), always: both are fast when nothing changed.
 *
 * Plain Node built-ins only: it runs before node_modules/ exists. Used two ways:
 *   require('./bootstrap').prepare('start')           scripts/start.js, before anything else
 *   node scripts/bootstrap.js test && jest            package.json's test scripts (exit 1 with one line)
 * Purposes: `start` (no system check: start.js finds or starts Redis itself), `test`, `bench`, `lint`.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const MIN_NODE_MAJOR = 20;
/** Packages the scripts themselves run; a node_modules/ without one of them is not a usable install. */
const TOOLS = ['typescript/bin/tsc', 'jest/bin/jest.js', 'pm2/bin/pm2'];

class BootstrapError extends Error {}

function say(line) {
  process.stdout.write(`${line}\n`);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE_MAJOR) {
    throw new BootstrapError(
      `Node.js ${MIN_NODE_MAJOR} or later is needed, this is ${process.version}: install it from ` +
        `https://nodejs.org/ (or \`nvm install ${MIN_NODE_MAJOR}\`) and run the command again.`,
    );
  }
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** What the test suite needs from outside npm. */
function checkSystemForTests() {
  const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
  if (!process.env.TEST_MONGODB_URI && !linuxX64) {
    throw new BootstrapError(
      `the bundled MongoDB test engine runs on Linux x64 only (this is ${process.platform} ${process.arch}): ` +
        'set TEST_MONGODB_URI to a MongoDB 6+ the tests may write to (e.g. mongodb://127.0.0.1:27017).',
    );
  }
  if (process.env.TEST_REDIS_URL || commandExists('redis-server')) return;
  throw new BootstrapError(
    'the tests start their own redis-server, and none is on the PATH: install it ' +
      '(Debian/Ubuntu: sudo apt-get install redis-server; Fedora: sudo dnf install redis; ' +
      'macOS: brew install redis) and run the command again, or set TEST_REDIS_URL to a Redis 6.2+ ' +
      'the tests may write to.',
  );
}

/** What `npm run bench` needs from outside npm: it always starts its own redis-server. */
function checkSystemForBench() {
  const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
  if (!process.env.BENCH_MONGODB_URI && !linuxX64) {
    throw new BootstrapError(
      `the bundled MongoDB test engine runs on Linux x64 only (this is ${process.platform} ${process.arch}): ` +
        'set BENCH_MONGODB_URI to a MongoDB 6+ the bench may write to.',
    );
  }
  if (commandExists('redis-server')) return;
  throw new BootstrapError(
    'the bench starts its own redis-server, and none is on the PATH: install it ' +
      '(Debian/Ubuntu: sudo apt-get install redis-server; Fedora: sudo dnf install redis; ' +
      'macOS: brew install redis) and run the command again.',
  );
}

/** Why `npm ci` is needed in `root`, or undefined when its node_modules/ matches its package-lock.json. */
function installReason(root = ROOT) {
  if (!fs.existsSync(path.join(root, 'node_modules'))) return 'there is no node_modules/ yet';
  const wanted = readJson(path.join(root, 'package-lock.json'))?.packages;
  if (!wanted) throw new BootstrapError('package-lock.json is missing or unreadable; restore it from git.');
  const installed = readJson(path.join(root, 'node_modules', '.package-lock.json'))?.packages;
  if (!installed)
    return 'node_modules/ has no record of what was installed (node_modules/.package-lock.json)';
  const differ = [];
  for (const [key, entry] of Object.entries(wanted)) {
    if (!key.startsWith('node_modules/')) continue;
    const have = installed[key];
    // Optional packages for other platforms are never installed.
    if (!have && entry.optional) continue;
    if (!have || have.version !== entry.version || have.resolved !== entry.resolved) {
      const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      differ.push(`${name} ${have?.version ?? '(none)'} → ${entry.version ?? entry.resolved}`);
    }
  }
  for (const key of Object.keys(installed)) {
    if (key.startsWith('node_modules/') && !wanted[key]) differ.push(`${key.slice(13)} is no longer wanted`);
  }
  if (differ.length > 0) {
    const more = differ.length > 1 ? ` and ${differ.length - 1} more` : '';
    return `package-lock.json changed since the last install: ${differ[0]}${more}`;
  }
  const missing = TOOLS.find((tool) => !fs.existsSync(path.join(root, 'node_modules', tool)));
  if (missing) return `node_modules/ lacks ${missing.split('/')[0]}`;
  return undefined;
}

/** npm itself: the one running this script when there is one, else the `npm` on the PATH. */
function npmCommand(args) {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [process.execPath, [execPath, ...args]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
}

function install() {
  const reason = installReason();
  if (!reason) return;
  say(`• installing dependencies: npm ci (${reason})`);
  const started = Date.now();
  const [command, args] = npmCommand(['ci', '--no-audit', '--no-fund']);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.error || result.status !== 0) {
    throw new BootstrapError(
      `\`npm ci\` failed (${result.error?.message ?? `exit ${result.status}`}, see above): ` +
        'check that the npm registry is reachable, then run the command again.',
    );
  }
  say(`  installed in ${seconds(started)}`);
}

function build() {
  say(
    '• building: tsc -b (incremental, only what changed since the last build), then the browser tracker and the dashboard',
  );
  const started = Date.now();
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const bundles = [
    path.join(ROOT, 'tracker', 'build.mjs'),
    path.join(ROOT, 'reporting_service', 'dashboard', 'build.mjs'),
  ];
  for (const args of [[tsc, '-b'], ...bundles.map((bundle) => [bundle])]) {
    const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
    if (result.error || result.status !== 0) {
      throw new BootstrapError('the build failed (the errors are above); fix them and run it again.');
    }
  }
  say(`  built in ${seconds(started)}`);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Throws BootstrapError (a one-line message) when the checkout cannot be made ready. */
function prepare(purpose) {
  checkNode();
  if (purpose === 'test') checkSystemForTests();
  if (purpose === 'bench') checkSystemForBench();
  install();
  build();
}

module.exports = { BootstrapError, installReason, prepare };

if (require.main === module) {
  const purpose = process.argv[2] ?? 'test';
  const label = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : 'bootstrap';
  try {
    prepare(purpose);
  } catch (error) {
    const message = error instanceof BootstrapError ? error.message : `unexpected failure: ${error?.stack}`;
    process.stderr.write(`${label.replace(/^npm run (test|start|stop)$/, 'npm $1')}: ${message}\n`);
    process.exitCode = 1;
  }
}
