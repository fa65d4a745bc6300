/* global fetch, AbortSignal, setTimeout */
/**
 * The health gate of scripts/release.js: which /health URLs the ecosystem's settings give, and a poll of
 * them together with pm2's own view (every instance online, no restart) until all have been healthy for
 * a settling time in a row. Plain Node built-ins; pm2 is run as a command.
 */
const { spawnSync } = require('node:child_process');

/** The apps in release order: consumers of jobs first, the producer (ingestion) last. */
const ORDER = ['processor_service', 'cron_service', 'reporting_service', 'ingestion_service'];
/** Each app's port variable, its default, and for fork-mode apps the instance-count variable. */
const PORTS = {
  processor_service: ['PROCESSOR_PORT', 3001, 'PROCESSOR_INSTANCES'],
  cron_service: ['CRON_PORT', 3002, 'CRON_INSTANCES'],
  reporting_service: ['REPORTING_PORT', 4000],
  ingestion_service: ['INGESTION_PORT', 3000],
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The apps this machine runs: APPS (comma-separated, as ecosystem.config.js reads it) or all four. */
function appsOf(env) {
  const only = (env.APPS || '').split(',').filter(Boolean);
  const unknown = only.filter((name) => !ORDER.includes(name));
  if (unknown.length > 0) throw new Error(`APPS names unknown apps: ${unknown.join(', ')} (known: ${ORDER})`);
  return ORDER.filter((app) => only.length === 0 || only.includes(app));
}

/** Every /health URL (a fork app with N instances listens on N ports from its base, as pm2 assigns them). */
function healthTargets(env) {
  const targets = [];
  for (const app of appsOf(env)) {
    const [portVar, fallback, countVar] = PORTS[app];
    const base = Number(env[portVar] || fallback);
    const count = countVar && /^\d+$/.test(env[countVar] || '') ? Number(env[countVar]) : 1;
    for (let i = 0; i < count; i += 1) targets.push({ app, url: `http://127.0.0.1:${base + i}/health` });
  }
  return targets;
}

async function healthOf(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return response.status === 200 ? 'ok' : `HTTP ${response.status}`;
  } catch {
    return 'no answer';
  }
}

/** This project's instances in pm2 (name, pm_id, status, restart count); [] when pm2 does not answer. */
function pm2Instances(pm2, env) {
  const [bin, ...pre] = pm2;
  const result = spawnSync(bin, [...pre, 'jlist'], { env, encoding: 'utf8' });
  try {
    return JSON.parse(result.stdout).filter((p) => ORDER.includes(p.name));
  } catch {
    return [];
  }
}

/**
 * Polls once a second. Resolves with null once every target answered 200 and every instance stayed
 * online without a restart for `settleMs` in a row; else, after `timeoutMs` (plus the settling time),
 * with what was wrong at the end. `say` gets a line whenever the picture changes.
 */
async function waitHealthy({ targets, pm2, env, timeoutMs, settleMs, say }) {
  const deadline = Date.now() + timeoutMs + settleMs;
  let healthySince;
  let baseline = '';
  let problem = 'not checked';
  let lastSaid = '';
  while (Date.now() < deadline) {
    const states = await Promise.all(targets.map(async (t) => [t, await healthOf(t.url)]));
    const instances = pm2Instances(pm2, env);
    const down = states
      .filter(([, s]) => s !== 'ok')
      .map(([t, s]) => `${t.app} ${t.url.split('/')[2]}: ${s}`);
    const offline = instances
      .filter((p) => p.pm2_env.status !== 'online')
      .map((p) => `${p.name}#${p.pm_id} ${p.pm2_env.status}`);
    const restarts = instances.map((p) => `${p.pm_id}:${p.pm2_env.restart_time}`).join(',');
    problem = [...down, ...offline].join('; ');
    if (problem) healthySince = undefined;
    else if (healthySince === undefined || restarts !== baseline) {
      healthySince = Date.now();
      baseline = restarts;
    } else if (Date.now() - healthySince >= settleMs) return null;
    const line = problem ? `waiting: ${problem}` : 'all healthy, settling';
    if (line !== lastSaid) say(line);
    lastSaid = line;
    await sleep(1000);
  }
  return problem || `healthy, but not for ${settleMs / 1000} s in a row (an instance restarted)`;
}

module.exports = { appsOf, healthTargets, pm2Instances, waitHealthy };
