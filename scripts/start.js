/* global setTimeout */
/**
 * `npm start` at the root: the whole system on one machine, on a fresh clone.
 *
 * 1. Builds if a service's dist/ is missing.
 * 2. Redis: REDIS_URL if set; else a server answering PING on 127.0.0.1:6379; else starts redis-server
 *    (AOF everysec, data in .data/redis); else one line saying what to install.
 * 3. MongoDB: MONGODB_URI if set; else 127.0.0.1:27017 if it answers; else starts mongod (data in
 *    .data/mongo); else, outside production, the bundled in-memory test engine, with a loud warning.
 * 4. ADMIN_API_KEY: as set, else the one kept in .data/admin-key (generated on first start).
 * 5. Starts the four services under pm2 (ecosystem.config.js, PM2_HOME in .data/pm2), waits for /health.
 * 6. Creates a demo site on first start (.data/demo-site.json; again when the database forgot it) and
 *    prints its keys and curl commands that work as printed.
 *
 * `npm stop` (scripts/stop.js) stops all of it.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { URL } = require('node:url');
const {
  DATA_DIR,
  ECOSYSTEM,
  FILES,
  PM2_HOME,
  ROOT,
  SERVICES,
  httpJson,
  isAlive,
  pm2,
  probeTcp,
  readJson,
  say,
  sleep,
  writeJson,
} = require('./local-stack');

const REDIS_DEFAULT = { host: '127.0.0.1', port: 6379 };
const MONGO_DEFAULT = { host: '127.0.0.1', port: 27017 };
const DATABASE = 'analytics';
const HEALTH_TIMEOUT_MS = 90_000;

class StartError extends Error {}

function fail(message) {
  throw new StartError(message);
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function started() {
  return readJson(FILES.started) ?? {};
}

function recordStarted(kind, value) {
  writeJson(FILES.started, { ...started(), [kind]: value });
}

function ensureBuilt() {
  const missing = SERVICES.filter((s) => !fs.existsSync(path.join(ROOT, s.name, 'dist', 'index.js')));
  if (missing.length === 0) return;
  say(`• building (no dist/ in ${missing.map((s) => s.name).join(', ')}): npm run build`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0)
    fail('the build failed (see above); fix it, or run `npm ci` first if you have not.');
}

async function waitFor(check, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}

async function resolveRedis() {
  if (process.env.REDIS_URL) {
    say(`• Redis: REDIS_URL (${redactUrl(process.env.REDIS_URL)})`);
    return process.env.REDIS_URL;
  }
  const url = `redis://${REDIS_DEFAULT.host}:${REDIS_DEFAULT.port}`;
  const probe = await probeTcp(REDIS_DEFAULT.host, REDIS_DEFAULT.port, 'PING\r\n');
  if (probe.open) {
    if (probe.answer.startsWith('+PONG')) {
      const ours = started().redis;
      say(
        `• Redis: ${url} (${ours && isAlive(ours.pid) ? 'started earlier by npm start' : 'already running'})`,
      );
      return url;
    }
    fail(
      `something listens on ${REDIS_DEFAULT.host}:${REDIS_DEFAULT.port} but does not answer Redis PING ` +
        `(${probe.answer.trim() || 'no answer'}); set REDIS_URL (e.g. redis://:password@host:6379).`,
    );
  }
  if (!commandExists('redis-server')) {
    fail(
      'no Redis: set REDIS_URL, start Redis on 127.0.0.1:6379, or install redis-server ' +
        '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis).',
    );
  }
  const dir = path.join(DATA_DIR, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  say(`• Redis: starting redis-server on ${REDIS_DEFAULT.port} (AOF everysec, data in .data/redis)`);
  const result = spawnSync(
    'redis-server',
    [
      '--port',
      String(REDIS_DEFAULT.port),
      '--bind',
      REDIS_DEFAULT.host,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--daemonize',
      'yes',
      '--pidfile',
      FILES.redisPid,
      '--logfile',
      path.join(dir, 'redis-server.log'),
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) fail('redis-server did not start; see .data/redis/redis-server.log.');
  const up = await waitFor(async () => {
    const p = await probeTcp(REDIS_DEFAULT.host, REDIS_DEFAULT.port, 'PING\r\n');
    return p.answer?.startsWith('+PONG') && fs.existsSync(FILES.redisPid);
  }, 10_000);
  if (!up) fail('redis-server did not answer within 10 s; see .data/redis/redis-server.log.');
  recordStarted('redis', { pid: Number(fs.readFileSync(FILES.redisPid, 'utf8').trim()), url });
  return url;
}

function redactUrl(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'unparsable URL';
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function engineBinary() {
  try {
    const packageJson = require.resolve('@jongodb/memory-server-bin-linux-x64-gnu/package.json', {
      paths: [ROOT],
    });
    return path.join(path.dirname(packageJson), 'bin', 'jongodb');
  } catch {
    return undefined;
  }
}

/** Returns { uri, inMemory }. */
async function resolveMongo() {
  if (process.env.MONGODB_URI) {
    say(`• MongoDB: MONGODB_URI (${redactUrl(process.env.MONGODB_URI)})`);
    return { uri: process.env.MONGODB_URI, inMemory: false };
  }
  const uri = `mongodb://${MONGO_DEFAULT.host}:${MONGO_DEFAULT.port}/${DATABASE}`;
  if ((await probeTcp(MONGO_DEFAULT.host, MONGO_DEFAULT.port)).open) {
    const ours = started().mongod;
    say(
      `• MongoDB: ${uri} (${ours && isAlive(ours.pid) ? 'started earlier by npm start' : 'already running'})`,
    );
    return { uri, inMemory: false };
  }
  const engine = started().engine;
  if (engine && isAlive(engine.pid)) {
    say(`• MongoDB: the in-memory test engine started earlier (pid ${engine.pid})`);
    warnInMemory();
    return { uri: engine.uri, inMemory: true };
  }
  if (commandExists('mongod')) return { uri: await startMongod(uri), inMemory: false };
  if (process.env.NODE_ENV === 'production') {
    fail(
      'no MongoDB: set MONGODB_URI, start MongoDB on 127.0.0.1:27017 or install mongod ' +
        '(the in-memory test engine is never used when NODE_ENV=production).',
    );
  }
  const binary = engineBinary();
  if (!binary) {
    fail(
      'no MongoDB: set MONGODB_URI, start MongoDB on 127.0.0.1:27017, or install mongod ' +
        '(https://www.mongodb.com/docs/manual/installation/).',
    );
  }
  return { uri: await startEngine(binary), inMemory: true };
}

async function startMongod(uri) {
  const dir = path.join(DATA_DIR, 'mongo');
  fs.mkdirSync(dir, { recursive: true });
  say(`• MongoDB: starting mongod on ${MONGO_DEFAULT.port} (data in .data/mongo)`);
  const result = spawnSync(
    'mongod',
    [
      '--dbpath',
      dir,
      '--port',
      String(MONGO_DEFAULT.port),
      '--bind_ip',
      MONGO_DEFAULT.host,
      '--fork',
      '--logpath',
      path.join(dir, 'mongod.log'),
      '--pidfilepath',
      FILES.mongodPid,
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) fail('mongod did not start; see .data/mongo/mongod.log.');
  const up = await waitFor(async () => (await probeTcp(MONGO_DEFAULT.host, MONGO_DEFAULT.port)).open, 30_000);
  if (!up) fail('mongod did not answer within 30 s; see .data/mongo/mongod.log.');
  recordStarted('mongod', { pid: Number(fs.readFileSync(FILES.mongodPid, 'utf8').trim()), uri });
  return uri;
}

function warnInMemory() {
  const bar = '!'.repeat(100);
  say(bar);
  say('!! MongoDB: no MONGODB_URI, nothing on 127.0.0.1:27017 and no mongod installed, so the bundled');
  say('!! IN-MEMORY TEST ENGINE is used. NOTHING IS KEPT: every site, event and statistic is lost at');
  say('!! `npm stop`. It also slows down past a few thousand events. For real use, set MONGODB_URI');
  say('!! (MongoDB 6 or later), or run MongoDB on 127.0.0.1:27017, and `npm stop && npm start` again.');
  say(bar);
}

async function startEngine(binary) {
  const port = await freePort();
  fs.mkdirSync(DATA_DIR, { recursive: true });
  say(`• MongoDB: starting the bundled in-memory test engine on ${port}`);
  const log = fs.openSync(FILES.engineLog, 'w');
  const child = spawn(binary, [`--port=${port}`], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  let base;
  const up = await waitFor(async () => {
    if (!isAlive(child.pid)) return true;
    const match = /JONGODB_URI=(mongodb:\/\/\S+)/.exec(fs.readFileSync(FILES.engineLog, 'utf8'));
    if (match) base = match[1];
    return Boolean(match);
  }, 20_000);
  if (!up || !base) {
    if (isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
    fail(`the in-memory test engine did not start; see ${path.relative(ROOT, FILES.engineLog)}.`);
  }
  const url = new URL(base);
  url.pathname = `/${DATABASE}`;
  const uri = url.toString();
  recordStarted('engine', { pid: child.pid, uri });
  warnInMemory();
  return uri;
}

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

function startServices(env) {
  say(`• starting the four services under pm2 (PM2_HOME=${path.relative(ROOT, PM2_HOME)})`);
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
  say('  reporting  http://localhost:4000   GET /stats, POST /sites');
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
  say('Create another site:');
  say(`  curl -s -X POST http://localhost:4000/sites -H 'Authorization: Bearer ${admin.key}' \\`);
  say(`    -H 'Content-Type: application/json' -d '{"name": "My site"}'`);
  say('');
  say(`Logs: PM2_HOME=${path.relative(ROOT, PM2_HOME)} npx pm2 logs    Stop everything: npm stop`);
}

async function main() {
  ensureBuilt();
  const redisUrl = await resolveRedis();
  const mongo = await resolveMongo();
  const admin = resolveAdminKey();
  const env = { ...process.env, REDIS_URL: redisUrl, MONGODB_URI: mongo.uri, ADMIN_API_KEY: admin.key };
  startServices(env);
  await waitForHealth();
  const site = await ensureDemoSite(admin.key, mongo);
  printSummary(site, admin);
}

main().catch((error) => {
  if (error instanceof StartError) {
    process.stderr.write(`npm start: ${error.message}\n`);
  } else {
    process.stderr.write(`npm start: unexpected failure: ${error?.stack ?? error}\n`);
  }
  // Let stdout drain before exiting.
  setTimeout(() => process.exit(1), 10);
});
