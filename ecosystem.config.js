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

function instances(variable, fallback) {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  return value === 'max' ? 'max' : Number(value);
}

/**
 * Fork-mode apps have no shared port: with more than one instance, pm2's `increment_var` gives each its
 * own PORT (base, base + 1, ...). With one instance PORT is left to the environment and `.env`.
 */
function forkInstances(variable, basePort) {
  const count = instances(variable, 1);
  if (count === 1) return { exec_mode: 'fork', instances: 1 };
  return {
    exec_mode: 'fork',
    instances: count,
    increment_var: 'PORT',
    env: { ...passedThrough(), PORT: basePort },
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
    cwd: `${__dirname}/${service}`,
    node_args: startFlags(service),
    ...placement,
  };
}

module.exports = {
  apps: [
    serviceApp('ingestion_service', { exec_mode: 'cluster', instances: instances('INGESTION_INSTANCES', 1) }),
    serviceApp('processor_service', forkInstances('PROCESSOR_INSTANCES', 3001)),
    serviceApp('reporting_service', { exec_mode: 'cluster', instances: instances('REPORTING_INSTANCES', 1) }),
    serviceApp('cron_service', forkInstances('CRON_INSTANCES', 3002)),
  ],
};
