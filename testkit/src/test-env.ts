import { randomBytes } from 'node:crypto';
import { mongoUriWithDatabase } from './mongo-engine';

export interface TestNames {
  database: string;
  queueName: string;
  redisPrefix: string;
}

/** Names no other test file uses: a database, a queue and a Redis key prefix of one's own. */
export function uniqueTestNames(label: string): TestNames {
  const id = randomBytes(5).toString('hex');
  const safeLabel = label.replace(/[^A-Za-z0-9]/g, '').slice(0, 20);
  return { database: `t_${safeLabel}_${id}`, queueName: `q-${safeLabel}-${id}`, redisPrefix: `t-${id}` };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the tests through jest (its global setup starts the servers)`);
  return value;
}

export function testRedisUrl(): string {
  return required('TEST_REDIS_URL');
}

export function testMongoUri(database: string): string {
  return mongoUriWithDatabase(required('TEST_MONGODB_URI'), database);
}

/**
 * Drops a test database on a real MongoDB (TEST_MONGODB_URI); the test engine has no dropDatabase and
 * forgets everything when it stops anyway, so a failure here is ignored.
 */
export async function dropTestDatabase(connection: {
  db?: { dropDatabase(): Promise<unknown> };
}): Promise<void> {
  await connection.db?.dropDatabase().catch(() => undefined);
}

/** The servers a test environment points at (base URIs; the database is replaced by the test's own). */
export interface TestServers {
  redisUrl: string;
  mongoUri: string;
}

/** The suite's redis-server and MongoDB, started by jest's global setup (or given by the caller). */
export function suiteTestServers(): TestServers {
  return { redisUrl: testRedisUrl(), mongoUri: required('TEST_MONGODB_URI') };
}

/**
 * The one builder of a service's test environment: NODE_ENV=test, errors-only logs, PORT=0 (any free
 * port: a service a test starts never takes its fixed default; a test that needs the URL passes a port from
 * getFreePort), the given servers (default: the suite's) with a database, queue name and Redis prefix no
 * other test uses; `overrides` replaces or adds any variable. Every service reads what it needs from it and ignores the rest, so one
 * environment can be shared by several services of one test.
 */
export function buildTestEnv(
  label: string,
  overrides: Record<string, string> = {},
  servers: TestServers = suiteTestServers(),
): Record<string, string> {
  const names = uniqueTestNames(label);
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    PORT: '0',
    METRICS_PORT: '0',
    REDIS_URL: servers.redisUrl,
    MONGODB_URI: mongoUriWithDatabase(servers.mongoUri, names.database),
    QUEUE_NAME: names.queueName,
    REDIS_PREFIX: names.redisPrefix,
    ...overrides,
  };
}
