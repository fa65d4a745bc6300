/**
 * `npm stop` at the root: stops what `npm start` started, and nothing else. The four services and the
 * project's own pm2 daemon (PM2_HOME in .data/pm2), then the redis-server, mongod or in-memory engine that
 * npm start launched itself (by the PIDs it recorded in .data/). A Redis or MongoDB that was already
 * running is left alone, and so are this project's keys in it (it says so, with the command that lists
 * them). Data stays in .data/redis and .data/mongo.
 */
const fs = require('node:fs');
const path = require('node:path');
const {
  ECOSYSTEM,
  FILES,
  PM2_HOME,
  ROOT,
  isAlive,
  pm2,
  pm2DaemonAlive,
  readJson,
  say,
  stopPid,
} = require('./local-stack');

async function main() {
  if (pm2DaemonAlive()) {
    say('• stopping the services (pm2 delete; each finishes what it accepted, up to 10 s)');
    pm2(['delete', ECOSYSTEM], { quiet: true });
    say(`• stopping the pm2 daemon (PM2_HOME=${path.relative(ROOT, PM2_HOME)})`);
    pm2(['kill'], { quiet: true });
  } else {
    say('• no pm2 daemon of this project is running');
  }

  const started = readJson(FILES.started) ?? {};
  const labels = { engine: 'in-memory MongoDB engine', mongod: 'mongod', redis: 'redis-server' };
  // MongoDB and Redis after the services, so the services could close their connections cleanly.
  for (const kind of ['engine', 'mongod', 'redis']) {
    const entry = started[kind];
    if (!entry) continue;
    if (isAlive(entry.pid)) {
      say(`• stopping the ${labels[kind]} npm start launched (pid ${entry.pid})`);
      await stopPid(entry.pid, kind === 'mongod' ? 30_000 : 10_000);
    }
  }
  fs.rmSync(FILES.started, { force: true });
  say('Stopped. Data kept in .data/ (the in-memory engine keeps nothing); `npm start` starts again.');
  const inUse = started.redisInUse;
  if (inUse && !started.redis) {
    const url = inUse.url.replace(/\/$/, '');
    const cli = url === 'redis://127.0.0.1:6379' ? 'redis-cli' : `redis-cli -u '${url}'`;
    say(`The Redis at ${url} was running before npm start and keeps running, with this project's keys in it`);
    say(`(queue, rate limits, schedules; all under the prefix '${inUse.prefix}:'). To list them:`);
    say(`  ${cli} --scan --pattern '${inUse.prefix}:*'`);
  }
}

main().catch((error) => {
  process.stderr.write(`npm stop: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
