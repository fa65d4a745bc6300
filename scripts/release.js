#!/usr/bin/env node
/**
 * A health-gated release with automatic rollback, for pm2 on one VM (docs/operations.md, "Releases"):
 *
 *   node scripts/release.js <git-ref> [--root DIR] [--repo DIR] [--keep N] [--health-timeout S]
 *                           [--settle S] [--dry-run]
 *
 * 1. checks out <git-ref> of --repo (a local clone, fetched beforehand) into <root>/releases/<time>-<commit>/;
 * 2. installs (a hard-linked copy of another release's node_modules when package-lock.json is the same,
 *    else `npm ci`) and builds (`npm run build`);
 * 3. points <root>/current at it and runs `pm2 startOrReload` app by app, consumers first (processor,
 *    cron, reporting, ingestion); wait_ready makes the reload of ingestion and reporting gapless;
 * 4. polls every service's /health (and pm2's status) until all are healthy for --settle seconds in a row,
 *    for at most --health-timeout seconds; when one stays unhealthy, points `current` back at the previous
 *    release, reloads it, waits for it to be healthy and says so (exit 1);
 * 5. keeps the newest --keep releases (and the current one), removes the others.
 *
 * <root>/shared/release.env (KEY=VALUE lines) is the release's environment: REDIS_URL, MONGODB_URI,
 * ADMIN_API_KEY, NODE_ENV, the *_PORT and *_INSTANCES variables of ecosystem.config.js. The process
 * environment wins over it. PM2_HOME selects the pm2 daemon, as for pm2 itself.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { appsOf, healthTargets, waitHealthy } = require('./release-health');

class ReleaseError extends Error {}
const started = Date.now();
const say = (line) =>
  process.stdout.write(`[release +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);

function parseArgs(argv) {
  const options = {
    root: process.env.RELEASE_ROOT || path.join(os.homedir(), 'analytics'),
    repo: path.resolve(__dirname, '..'),
    keep: 5,
    healthTimeoutS: 90,
    settleS: 10,
    dryRun: false,
  };
  const numbers = { '--keep': 'keep', '--health-timeout': 'healthTimeoutS', '--settle': 'settleS' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--root' || arg === '--repo') options[arg.slice(2)] = argv[++i];
    else if (numbers[arg]) options[numbers[arg]] = Number(argv[++i]);
    else if (arg.startsWith('--')) throw new ReleaseError(`unknown option ${arg}`);
    else if (options.ref) throw new ReleaseError(`one git ref only (got ${options.ref} and ${arg})`);
    else options.ref = arg;
  }
  if (!options.ref)
    throw new ReleaseError('usage: node scripts/release.js <git-ref> [--root DIR] [--dry-run] ...');
  for (const [flag, key] of Object.entries(numbers))
    if (!Number.isFinite(options[key]) || options[key] < 0)
      throw new ReleaseError(`${flag} must be a number of ${key === 'keep' ? 'releases' : 'seconds'}`);
  if (options.keep < 1) throw new ReleaseError('--keep must be at least 1');
  options.root = path.resolve(options.root);
  return options;
}

/** Runs a command (inheriting output), or with --dry-run only prints it. */
function run(options, command, args, extra = {}) {
  say(
    `${options.dryRun ? 'would run' : 'run'}: ${[command, ...args].join(' ')}${extra.cwd ? `   (in ${extra.cwd})` : ''}`,
  );
  if (options.dryRun) return '';
  const result = spawnSync(command, args, {
    stdio: extra.quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
    ...extra,
  });
  if (result.status !== 0) {
    const detail = result.error?.message ?? (result.stderr || '').trim().split('\n').slice(-3).join(' | ');
    throw new ReleaseError(
      `${command} ${args.join(' ')} failed (exit ${result.status})${detail ? `: ${detail}` : ''}`,
    );
  }
  return (result.stdout || '').trim();
}

function readEnvFile(file) {
  if (!fs.existsSync(file)) return {};
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) env[match[1]] = match[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

function pm2Bin(root) {
  for (const base of [root, path.resolve(__dirname, '..')]) {
    try {
      return [process.execPath, require.resolve('pm2/bin/pm2', { paths: [base] })];
    } catch {
      // next candidate
    }
  }
  return ['pm2'];
}

/** Points <root>/current at a release (atomically, by renaming a new link over it) and reloads pm2. */
function switchTo(ctx, release) {
  const { root } = ctx.options;
  const link = path.join(root, 'current');
  run(ctx.options, 'ln', ['-sfn', path.join('releases', release), `${link}.new`]);
  run(ctx.options, 'mv', ['-T', `${link}.new`, link]);
  const [bin, ...pre] = ctx.pm2;
  const ecosystem = path.join(link, 'ecosystem.config.js');
  for (const app of appsOf(ctx.env)) {
    run(ctx.options, bin, [...pre, 'startOrReload', ecosystem, '--only', app, '--update-env'], {
      env: ctx.env,
      cwd: link,
      quiet: true,
    });
  }
}

function prune(ctx, keepAlso) {
  const dir = path.join(ctx.options.root, 'releases');
  const releases = fs.existsSync(dir) ? fs.readdirSync(dir).sort().reverse() : [];
  for (const name of releases.slice(ctx.options.keep)) {
    if (keepAlso.includes(name)) continue;
    say(`removing old release ${name}`);
    if (!ctx.options.dryRun) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function install(ctx, dir) {
  const lock = (d) => fs.readFileSync(path.join(d, 'package-lock.json'), 'utf8');
  const releasesDir = path.join(ctx.options.root, 'releases');
  const releases = fs.existsSync(releasesDir) ? fs.readdirSync(releasesDir).sort().reverse() : [];
  const donor = [...releases.map((n) => path.join(releasesDir, n)), ctx.options.repo].find(
    (d) =>
      !ctx.options.dryRun &&
      d !== dir &&
      fs.existsSync(path.join(d, 'node_modules')) &&
      fs.existsSync(path.join(d, 'package-lock.json')) &&
      lock(d) === lock(dir),
  );
  if (!donor)
    return run(ctx.options, 'npm', ['ci', '--include=dev', '--no-audit', '--no-fund'], { cwd: dir });
  say(`install: package-lock.json as in ${donor}: hard-linking its node_modules`);
  run(ctx.options, 'cp', ['-al', path.join(donor, 'node_modules'), path.join(dir, 'node_modules')]);
  // Its build outputs, copied (tsc rewrites files in place), are tsc's incremental cache: unchanged
  // sources are not checked again. tsc compares contents, so a stale copy only costs time.
  const workspaces = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).workspaces ?? [];
  for (const workspace of workspaces) {
    for (const file of ['dist', 'tsconfig.tsbuildinfo']) {
      const from = path.join(donor, workspace, file);
      if (fs.existsSync(from) && fs.existsSync(path.join(dir, workspace)))
        run(ctx.options, 'cp', ['-a', from, path.join(dir, workspace, file)], { quiet: true });
    }
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const env = { ...readEnvFile(path.join(options.root, 'shared', 'release.env')), ...process.env };
  env.APP_ROOT = path.join(options.root, 'current');
  delete env.PORT;
  const ctx = { options, env, pm2: pm2Bin(options.repo), targets: healthTargets(env) };
  const commit = run(
    { ...options, dryRun: false },
    'git',
    ['-C', options.repo, 'rev-parse', '--verify', `${options.ref}^{commit}`],
    { quiet: true },
  );
  const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  const name = `${stamp}-${commit.slice(0, 10)}`;
  const dir = path.join(options.root, 'releases', name);
  const link = path.join(options.root, 'current');
  const previous = fs.existsSync(link) ? path.basename(fs.realpathSync(link)) : undefined;
  say(
    `releasing ${options.ref} (${commit.slice(0, 10)}) as ${name}; previous: ${previous ?? 'none'}${options.dryRun ? ' [dry run]' : ''}`,
  );

  const lockFile = path.join(options.root, 'release.lock');
  if (!options.dryRun) {
    fs.mkdirSync(path.join(options.root, 'releases'), { recursive: true });
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      // Interrupted (Ctrl-C): free the lock and say where it stopped; `current` is whatever it printed last.
      process.once('SIGINT', () => {
        fs.rmSync(lockFile, { force: true });
        const now = fs.existsSync(link) ? fs.readlinkSync(link) : 'none';
        process.stderr.write(`release interrupted; current -> ${now}\n`);
        process.exit(130);
      });
    } catch {
      throw new ReleaseError(
        `another release is running (${lockFile}, pid ${fs.readFileSync(lockFile, 'utf8')}); remove the file if it is not`,
      );
    }
  }
  const gate = (label) =>
    waitHealthy({
      targets: ctx.targets,
      pm2: ctx.pm2,
      env,
      timeoutMs: options.healthTimeoutS * 1000,
      settleMs: options.settleS * 1000,
      say: (line) => say(`${label}: ${line}`),
    });
  try {
    try {
      run(options, 'git', ['clone', '--quiet', '--no-checkout', options.repo, dir]);
      run(options, 'git', ['-C', dir, 'checkout', '--quiet', '--detach', commit]);
      install(ctx, dir);
      run(options, 'npm', ['run', 'build'], { cwd: dir });
    } catch (error) {
      const live = previous ? `${previous} is still live` : 'nothing was started';
      throw new ReleaseError(`${error.message}; nothing was switched, ${live} (${dir} left for inspection)`);
    }
    say(`switching pm2 to ${name}`);
    let problem;
    try {
      switchTo(ctx, name);
    } catch (error) {
      problem = error.message;
    }
    if (options.dryRun) {
      say(
        `would poll ${ctx.targets.map((t) => t.url).join(', ')} until all are healthy for ${options.settleS} s`,
      );
      say(`  (at most ${options.healthTimeoutS} s), else roll back to ${previous ?? 'nothing'}`);
      say(`would keep the newest ${options.keep} releases`);
      return 0;
    }
    problem ??= await gate(name);
    if (problem === null) {
      say(`release ${name} is live and healthy`);
      prune(ctx, [name]);
      return 0;
    }
    say(`release ${name} is NOT healthy after ${options.healthTimeoutS} s: ${problem}`);
    if (!previous)
      throw new ReleaseError('the first release failed and there is nothing to roll back to; see `pm2 logs`');
    say(`ROLLING BACK to ${previous}`);
    switchTo(ctx, previous);
    const after = await gate(`rollback to ${previous}`);
    if (after !== null)
      throw new ReleaseError(`rolled back to ${previous}, but it is not healthy either: ${after}`);
    say(`rolled back: ${previous} is live and healthy again; ${name} failed (${problem})`);
    prune(ctx, [previous]);
    return 1;
  } finally {
    if (!options.dryRun) fs.rmSync(lockFile, { force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    // Every failure here is operational (a command, a variable, a file): its message says it all.
    process.stderr.write(`release failed: ${error.message}\n`);
    process.exit(1);
  },
);
