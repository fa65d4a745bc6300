/**
 * pm2 ecosystem of the four services; `npm start` at the root uses it (see scripts/start.js), and so can an
 * operator: `npm run build && pm2 start ecosystem.config.js`. docs/operations.md explains every choice.
 *
 * - `cwd` is each service's folder, so its own `.env` applies (the process environment still wins).
 * - `kill_timeout` (10 s) is above the services' shutdown deadline (8 s, common/src/shutdown.ts): pm2 sends
 *   SIGINT, the service finishes what it accepted and exits; pm2 sends SIGKILL only past 10 s.
 * - `wait_ready`: pm2 counts an instance as started only when it sent `process.send('ready')`, which each
 *   service does once its Redis/MongoDB connections are up and its port is listening. A restart or
 *   `pm2 reload` therefore replaces instances one by one without a gap.
 * - The variables the starter set (REDIS_URL, MONGODB_URI, ADMIN_API_KEY, ...) are passed through; those
 *   it did not set are left out, so the service's `.env` and defaults apply.
 *
 * Instances and exec modes (override the counts with the variables below, e.g. INGESTION_INSTANCES=max):
 * - ingestion_service and reporting_service are stateless HTTP servers: cluster mode, so pm2 shares the
 *   port between instances; `instances: 'max'` runs one per CPU core.
 * - processor_service has no shared port to balance (only /health): fork mode. Scale it with
 *   PROCESSOR_INSTANCES (each gets its own PORT from 3001 up) or on more machines; BullMQ spreads the
 *   jobs. One per machine with a high WORKER_CONCURRENCY is usually enough: it mostly waits on MongoDB.
 * - cron_service: fork mode, 1 instance, or more (CRON_INSTANCES, PORTs from 3002 up) for availability:
 *   each schedule still runs once, through BullMQ job schedulers.
 * - `node_args` are the Node flags of the service's own `npm start` (its package.json), so pm2, `npm start`
 *   in the service's folder and the bench run it alike (docs/operations.md, "Memory").
 * - APPS=processor_service,cron_service runs only the apps named (a machine with one role).
 * - Ports: INGESTION_PORT, PROCESSOR_PORT, REPORTING_PORT, CRON_PORT set each app's PORT (unset: the
 *   service's `.env` or its default). Releases (scripts/release.js) set APP_ROOT to `<root>/current`, a
 *   symlink: pm2 keeps that path, so `pm2 reload` starts whatever release the link points to.
 * - `deploy`: pm2's own remote deployment (ssh + git); its post-deploy hook runs the health-gated
 *   release on each host (docs/operations.md, "Releases").
 */

const fs = require('node:fs');
const path = require('node:path');

/** The flags between `node` and `dist/index.js` in a service's `start` script. */
function startFlags(service) {
  const manifest = path.join(__dirname, service, 'package.json');
  const start = JSON.parse(fs.readFileSync(manifest, 'utf8')).scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const flags = words.slice(1, -1);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/index.js' || !flags.every((f) => f.startsWith('--'))) {
    throw new Error(
      `${manifest}: scripts.start must read "node [--flag ...] dist/index.js", found "${start}"`,
    );
  }
  return flags.join(' ');
}

/** Variables passed through from the starter's environment when set there. */
const PASSED_THROUGH = [
  'NODE_ENV',
  'LOG_LEVEL',
  'REDIS_URL',
  'REDIS_PREFIX',
  'MONGODB_URI',
  'QUEUE_NAME',
  'ADMIN_API_KEY',
];

function passedThrough() {
  const env = {};
  for (const name of PASSED_THROUGH) {
    if (process.env[name] !== undefined && process.env[name] !== '') env[name] = process.env[name];
  }
  return env;
}

/** Where the services' folders are: APP_ROOT (a release's `current` link, kept as is) or this file's folder. */
const APP_ROOT = process.env.APP_ROOT || __dirname;

/** Each app's port variable and the service's own default. */
const PORTS = {
  ingestion_service: ['INGESTION_PORT', 3000],
  processor_service: ['PROCESSOR_PORT', 3001],
  reporting_service: ['REPORTING_PORT', 4000],
  cron_service: ['CRON_PORT', 3002],
};

/** The app's PORT when its variable is set (an empty object otherwise). */
function portEnv(service) {
  const value = process.env[PORTS[service][0]];
  return value ? { PORT: Number(value) } : {};
}

function instances(variable, fallback) {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  return value === 'max' ? 'max' : Number(value);
}

/**
 * Fork-mode apps have no shared port: with more than one instance, pm2's `increment_var` gives each its
 * own PORT (base, base + 1, ...). With one instance PORT is left to the environment and `.env`.
 */
function forkInstances(variable, service) {
  const count = instances(variable, 1);
  if (count === 1)
    return { exec_mode: 'fork', instances: 1, env: { ...passedThrough(), ...portEnv(service) } };
  const [portVariable, defaultPort] = PORTS[service];
  return {
    exec_mode: 'fork',
    instances: count,
    increment_var: 'PORT',
    env: { ...passedThrough(), PORT: Number(process.env[portVariable] || defaultPort) },
  };
}

function clusterInstances(variable, service) {
  return {
    exec_mode: 'cluster',
    instances: instances(variable, 1),
    env: { ...passedThrough(), ...portEnv(service) },
  };
}

const common = {
  script: 'dist/index.js',
  kill_timeout: 10_000,
  wait_ready: true,
  // How long pm2 waits for the 'ready' signal (connections up, port listening) before it gives up.
  listen_timeout: 30_000,
  // A service that cannot start (bad variable, dependency unreachable) exits 1: retry with back-off,
  // and stop retrying after 10 quick failures so `pm2 ls` shows it errored.
  min_uptime: 5_000,
  max_restarts: 10,
  exp_backoff_restart_delay: 200,
  // The services log JSON lines with their own timestamp.
  merge_logs: true,
  env: passedThrough(),
};

/** One service's app: the common settings, its folder and start flags, and how many instances run how. */
function serviceApp(service, placement) {
  return {
    ...common,
    name: service,
    cwd: `${APP_ROOT}/${service}`,
    node_args: startFlags(service),
    ...placement,
  };
}

/** APPS (comma-separated app names) runs only those on this machine, e.g. a VM of processors only. */
const ONLY = (process.env.APPS || '').split(',').filter(Boolean);

module.exports = {
  apps: [
    serviceApp('ingestion_service', clusterInstances('INGESTION_INSTANCES', 'ingestion_service')),
    serviceApp('processor_service', forkInstances('PROCESSOR_INSTANCES', 'processor_service')),
    serviceApp('reporting_service', clusterInstances('REPORTING_INSTANCES', 'reporting_service')),
    serviceApp('cron_service', forkInstances('CRON_INSTANCES', 'cron_service')),
  ].filter((app) => ONLY.length === 0 || ONLY.includes(app.name)),
  /**
   * Remote releases with pm2's own deploy (`npx pm2 deploy ecosystem.config.js production`): pm2 connects
   * with ssh, fetches `ref` into `<path>/source` and runs post-deploy there, which makes a health-gated
   * release of that commit under `<path>/app` (scripts/release.js) and rolls back by itself when it
   * fails. Hosts, user and repository come from the environment of the machine that deploys.
   */
  deploy: {
    production: {
      user: process.env.DEPLOY_USER || 'analytics',
      host: (process.env.DEPLOY_HOSTS || 'analytics-1.internal').split(','),
      ref: process.env.DEPLOY_REF || 'origin/main',
      repo: process.env.DEPLOY_REPO || 'git@github.com:example/analytics-backend.git',
      path: process.env.DEPLOY_PATH || '/srv/analytics',
      'pre-setup': 'command -v node && command -v git',
      'post-deploy':
        'npm ci --include=dev --no-audit --no-fund && node scripts/release.js "$(git rev-parse HEAD)" ' +
        '--root "$(dirname "$PWD")/app" --repo "$PWD"',
      env: { NODE_ENV: 'production' },
    },
  },
};
