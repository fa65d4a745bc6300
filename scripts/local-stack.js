/* global setTimeout, clearTimeout, fetch, AbortSignal */
/**
 * Shared by scripts/start.js, scripts/local-databases.js and scripts/stop.js: where the local stack keeps its state (.data/), the pm2
 * command bound to the project's own PM2_HOME, and small process helpers. Plain CommonJS, no build needed.
 */
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const DATA_DIR = path.join(ROOT, '.data');
const PM2_HOME = path.join(DATA_DIR, 'pm2');
const ECOSYSTEM = path.join(ROOT, 'ecosystem.config.js');

const FILES = {
  adminKey: path.join(DATA_DIR, 'admin-key'),
  demoSite: path.join(DATA_DIR, 'demo-site.json'),
  /** What start.js started besides pm2: { redis?: {pid, url}, mongod?: {pid, uri}, engine?: {pid, uri} }. */
  started: path.join(DATA_DIR, 'started.json'),
  redisPid: path.join(DATA_DIR, 'redis', 'redis-server.pid'),
  mongodPid: path.join(DATA_DIR, 'mongo', 'mongod.pid'),
  engineLog: path.join(DATA_DIR, 'mongo-engine.log'),
};

const SERVICES = [
  { name: 'ingestion_service', port: 3000 },
  { name: 'processor_service', port: 3001 },
  { name: 'reporting_service', port: 4000 },
  { name: 'cron_service', port: 3002 },
];

/** A failure `npm start` reports as one line (no stack) before it exits 1. */
class StartError extends Error {}

function fail(message) {
  throw new StartError(message);
}

function say(line) {
  process.stdout.write(`${line}\n`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stopPid(pid, graceMs = 10_000) {
  if (!isAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    while (isAlive(pid)) await sleep(50);
  }
  return true;
}

/** Runs the project's own pm2 (node_modules/pm2) with PM2_HOME under .data/, so its daemon is ours. */
function pm2(args, options = {}) {
  const bin = require.resolve('pm2/bin/pm2', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: ROOT,
    env: { ...(options.env ?? process.env), PM2_HOME },
    stdio: options.quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  return result;
}

/** True when the pm2 daemon of this project (PM2_HOME under .data/) is running. */
function pm2DaemonAlive() {
  const pidFile = path.join(PM2_HOME, 'pm2.pid');
  if (!fs.existsSync(pidFile)) return false;
  return isAlive(Number(fs.readFileSync(pidFile, 'utf8').trim()));
}

/** Opens a TCP connection, optionally sends `send` and resolves with what came back ('' if nothing). */
function probeTcp(host, port, send, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    let opened = false;
    const done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(opened ? { open: true, answer } : { open: false }), timeoutMs);
    socket.on('connect', () => {
      opened = true;
      if (send) socket.write(send);
      else done({ open: true, answer: '' });
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done({ open: true, answer });
    });
    socket.on('error', () => done(opened ? { open: true, answer } : { open: false }));
  });
}

/** GET with a short timeout; resolves with { status, body } or { status: 0 } when nothing answered. */
async function httpJson(url, init = {}) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 3000) });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, error };
  }
}

module.exports = {
  DATA_DIR,
  ECOSYSTEM,
  FILES,
  PM2_HOME,
  ROOT,
  SERVICES,
  StartError,
  fail,
  httpJson,
  isAlive,
  pm2,
  pm2DaemonAlive,
  probeTcp,
  readJson,
  say,
  sleep,
  stopPid,
  writeJson,
};
