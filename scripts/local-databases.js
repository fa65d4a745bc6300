/**
 * Redis and MongoDB for `npm start` (scripts/start.js): finds the ones configured or already running, or
 * starts them, and records what it started in .data/started.json so that `npm stop` stops exactly that.
 *
 * - Redis: REDIS_URL if set; else a server answering PING on 127.0.0.1:6379; else starts redis-server
 *   (AOF everysec, data in .data/redis); else one line saying what to install.
 * - MongoDB: MONGODB_URI if set; else 127.0.0.1:27017 if it answers; else starts mongod (data in
 *   .data/mongo); else, outside production, the bundled in-memory test engine, with a loud warning.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { URL } = require('node:url');
const {
  DATA_DIR,
  FILES,
  ROOT,
  fail,
  isAlive,
  probeTcp,
  readJson,
  say,
  sleep,
  writeJson,
} = require('./local-stack');

const REDIS_DEFAULT = { host: '127.0.0.1', port: 6379 };
const MONGO_DEFAULT = { host: '127.0.0.1', port: 27017 };
const DATABASE = 'analytics';

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function started() {
  return readJson(FILES.started) ?? {};
}

function recordStarted(kind, value) {
  writeJson(FILES.started, { ...started(), [kind]: value });
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

module.exports = { redactUrl, resolveMongo, resolveRedis };
