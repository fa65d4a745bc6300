/* global setTimeout */
/**
 * `npm start` at the root: the whole system on one machine, on a fresh clone, in one command.
 *
 * 1. Makes the checkout ready (scripts/bootstrap.js): `npm ci` when node_modules/ is missing or stale,
 *    then `tsc -b`.
 * 2. Finds or starts Redis and MongoDB (scripts/local-databases.js).
 * 3. ADMIN_API_KEY: as set, else reporting_service/.env's, else the one kept in .data/admin-key (generated
 *    on first start).
 * 4. Starts the four services under pm2 (ecosystem.config.js, PM2_HOME in .data/pm2), or restarts them
 *    when they already run, and waits for /health.
 * 5. Creates a demo site on first start (.data/demo-site.json; again when the database forgot it) and
 *    prints its keys and curl commands that work as printed.
 *
 * `npm stop` (scripts/stop.js) stops all of it.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { BootstrapError, prepare } = require('./bootstrap');
const { redactUrl, resolveMongo, resolveRedis } = require('./local-databases');
const {
  DATA_DIR,
  ECOSYSTEM,
  FILES,
  PM2_HOME,
  ROOT,
  SERVICES,
  StartError,
  fail,
  httpJson,
  pm2,
  pm2DaemonAlive,
  readJson,
  say,
  sleep,
  writeJson,
} = require('./local-stack');

const HEALTH_TIMEOUT_MS = 90_000;

function readEnvFileValue(file, name) {
  try {
    const match = new RegExp(`^\\s*${name}\\s*=\\s*(.*)$`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return match ? match[1].trim().replace(/^(['"])(.*)\1$/, '$2') : undefined;
  } catch {
    return undefined;
  }
}

/** The admin key: ADMIN_API_KEY if set, else reporting_service/.env's, else .data/admin-key (made once). */
function resolveAdminKey() {
  if (process.env.ADMIN_API_KEY) return { key: process.env.ADMIN_API_KEY, from: 'ADMIN_API_KEY' };
  const fromEnvFile = readEnvFileValue(path.join(ROOT, 'reporting_service', '.env'), 'ADMIN_API_KEY');
  if (fromEnvFile) return { key: fromEnvFile, from: 'reporting_service/.env' };
  if (fs.existsSync(FILES.adminKey)) {
    return { key: fs.readFileSync(FILES.adminKey, 'utf8').trim(), from: '.data/admin-key' };
  }
  const key = `admin_${crypto.randomBytes(24).toString('base64url')}`;
  fs.mkdirSync(DATA_DIR, { recursive: true });
  fs.writeFileSync(FILES.adminKey, `${key}\n`, { mode: 0o600 });
  return { key, from: 'generated now, kept in .data/admin-key' };
}

/** For `npm stop`: which Redis holds this project's keys, and under which prefix. */
function recordRedisInUse(url) {
  const prefix =
    process.env.REDIS_PREFIX ||
    readEnvFileValue(path.join(ROOT, 'ingestion_service', '.env'), 'REDIS_PREFIX') ||
    'analytics';
  writeJson(FILES.started, {
    ...(readJson(FILES.started) ?? {}),
    redisInUse: { url: redactUrl(url), prefix },
  });
}

/** Names of this project's services pm2 runs now (empty when its daemon is not running). */
function runningServices() {
  if (!pm2DaemonAlive()) return [];
  try {
    const apps = JSON.parse(pm2(['jlist'], { quiet: true }).stdout);
    return apps.filter((app) => app.pm2_env?.status === 'online').map((app) => app.name);
  } catch {
    return [];
  }
}

function startServices(env) {
  const running = runningServices();
  const home = `PM2_HOME=${path.relative(ROOT, PM2_HOME)}`;
  if (running.length > 0) {
    say(`• restarting the services, already running under pm2 (${running.length} of 4; ${home})`);
    say('  they pick up the new build and settings; `npm stop` stops them instead');
  } else {
    say(`• starting the four services under pm2 (${home})`);
  }
  // Each service reads its own PORT; one PORT for all four would make them collide.
  delete env.PORT;
  const result = pm2(['startOrRestart', ECOSYSTEM, '--update-env'], { env, quiet: true });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    fail('pm2 could not start the services (see above); `npm stop`, fix, and `npm start` again.');
  }
}

async function waitForHealth() {
  say(`• waiting for /health of each service (up to ${HEALTH_TIMEOUT_MS / 1000} s)`);
  const pending = new Map(SERVICES.map((s) => [s.name, s]));
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let lastReport = 0;
  const last = {};
  while (pending.size > 0 && Date.now() < deadline) {
    for (const service of [...pending.values()]) {
      const response = await httpJson(`http://127.0.0.1:${service.port}/health`, { timeoutMs: 1500 });
      last[service.name] = response;
      if (response.status === 200) {
        say(`  ✓ ${service.name} on :${service.port}`);
        pending.delete(service.name);
      }
    }
    if (pending.size > 0 && Date.now() - lastReport > 5000) {
      if (lastReport > 0) say(`  … still waiting for ${[...pending.keys()].join(', ')}`);
      lastReport = Date.now();
    }
    if (pending.size > 0) await sleep(500);
  }
  if (pending.size === 0) return;
  for (const name of pending.keys()) {
    const response = last[name];
    const seen = response?.status ? `${response.status} ${JSON.stringify(response.body)}` : 'no answer';
    say(`  ✗ ${name}: ${seen}`);
    const log = path.join(PM2_HOME, 'logs', `${name}-error.log`);
    if (fs.existsSync(log)) {
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-5);
      for (const line of lines) say(`    ${line}`);
    }
  }
  fail(
    `not healthy after ${HEALTH_TIMEOUT_MS / 1000} s: ${[...pending.keys()].join(', ')}. See the lines above ` +
      `and \`PM2_HOME=${path.relative(ROOT, PM2_HOME)} npx pm2 logs\`; \`npm stop\` stops everything.`,
  );
}

/** The demo site of .data/demo-site.json if the database still knows it, else a new one. */
async function ensureDemoSite(adminKey, mongo) {
  const saved = readJson(FILES.demoSite);
  if (saved?.site_id && saved.read_key) {
    const check = await httpJson(`http://127.0.0.1:4000/stats?site_id=${encodeURIComponent(saved.site_id)}`, {
      headers: { authorization: `Bearer ${saved.read_key}` },
    });
    if (check.status === 200) {
      say(`• demo site: ${saved.site_id} (kept from an earlier start in .data/demo-site.json)`);
      return saved;
    }
    say(
      `• demo site: ${saved.site_id} is not in this database${mongo.inMemory ? ' (in-memory)' : ''}; creating it`,
    );
  } else {
    say('• demo site: creating it (first start)');
  }
  let siteId = 'demo';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const response = await httpJson('http://127.0.0.1:4000/sites', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Demo site', site_id: siteId }),
    });
    if (response.status === 201) {
      const site = { ...response.body, mongodb: mongo.inMemory ? 'in-memory' : redactUrl(mongo.uri) };
      writeJson(FILES.demoSite, site);
      // Ingestion picks up new sites every SITE_REFRESH_INTERVAL_MS (2 s by default).
      say('  waiting 3 s for ingestion to pick up the new site');
      await sleep(3000);
      return site;
    }
    // Only the keys' digests are stored: a "demo" whose keys we lost cannot be reused, so take another id.
    if (response.status === 409) {
      siteId = `demo-${crypto.randomBytes(3).toString('hex')}`;
      continue;
    }
    fail(
      `POST /sites answered ${response.status || 'nothing'} ${JSON.stringify(response.body ?? '')}; ` +
        `see \`PM2_HOME=${path.relative(ROOT, PM2_HOME)} npx pm2 logs reporting_service\`.`,
    );
  }
  fail('could not create a demo site: every id tried was taken.');
  return undefined;
}

function printSummary(site, admin) {
  const event = JSON.stringify({
    site_id: site.site_id,
    event_type: 'page_view',
    path: '/pricing',
    user_id: 'u-1',
  });
  say('');
  say('All four services are up (pm2):');
  say('  ingestion  http://localhost:3000   POST /event, POST /events');
  say('  processor  http://localhost:3001   /health (queue depth)');
  say(
    '  reporting  http://localhost:4000   the dashboard (GET /), POST /api/v2/query, GET /stats, POST /sites',
  );
  say('  cron       http://localhost:3002   /health (retention and heartbeat runs)');
  say('');
  say(`Admin key: ${admin.key} (${admin.from})`);
  say(`Demo site:  ${site.site_id}`);
  say(`  write key: ${site.write_key}`);
  say(`  read key:  ${site.read_key}`);
  say('');
  say('Send an event (answers 202):');
  say(`  curl -s -X POST http://localhost:3000/event -H 'x-api-key: ${site.write_key}' \\`);
  say(`    -H 'Content-Type: application/json' -d '${event}'`);
  say('');
  say('Read the last 24 hours (the event shows within 2 s):');
  say(
    `  curl -s -H 'Authorization: Bearer ${site.read_key}' 'http://localhost:4000/stats?site_id=${site.site_id}'`,
  );
  say('');
  say(`Open the dashboard: http://localhost:4000/ (site id ${site.site_id} and the read key above)`);
  say('');
  say('Create another site:');
  say(`  curl -s -X POST http://localhost:4000/sites -H 'Authorization: Bearer ${admin.key}' \\`);
  say(`    -H 'Content-Type: application/json' -d '{"name": "My site"}'`);
  say('');
  say(`Logs: PM2_HOME=${path.relative(ROOT, PM2_HOME)} npx pm2 logs    Stop everything: npm stop`);
}

async function main() {
  prepare('start');
  const redisUrl = await resolveRedis();
  recordRedisInUse(redisUrl);
  const mongo = await resolveMongo();
  const admin = resolveAdminKey();
  const env = { ...process.env, REDIS_URL: redisUrl, MONGODB_URI: mongo.uri, ADMIN_API_KEY: admin.key };
  startServices(env);
  await waitForHealth();
  const site = await ensureDemoSite(admin.key, mongo);
  printSummary(site, admin);
}

main().catch((error) => {
  if (error instanceof StartError || error instanceof BootstrapError) {
    process.stderr.write(`npm start: ${error.message}\n`);
  } else {
    process.stderr.write(`npm start: unexpected failure: ${error?.stack ?? error}\n`);
  }
  // Let stdout drain before exiting.
  setTimeout(() => process.exit(1), 10);
});
