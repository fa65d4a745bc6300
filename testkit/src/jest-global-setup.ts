import { startTestMongo } from './mongo-engine';
import { startTestRedis } from './redis-server';
import type { ChildServer } from './child-server';

declare global {
  var __TEST_SERVERS__: ChildServer[] | undefined;
}

/**
 * Starts one redis-server and one MongoDB test engine for the whole run (unless TEST_REDIS_URL /
 * TEST_MONGODB_URI point at servers of the caller's), and publishes their URLs to the test workers
 * through the environment. Each test file then isolates itself by database, queue name and prefix.
 */
export default async function globalSetup(): Promise<void> {
  const started: ChildServer[] = [];
  globalThis.__TEST_SERVERS__ = started;
  // Stop what we started even when jest exits without running the teardown.
  process.once('exit', () => {
    for (const server of started) {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  if (!process.env.TEST_REDIS_URL) {
    const redis = await startTestRedis();
    started.push(redis);
    process.env.TEST_REDIS_URL = redis.url;
  }
  if (!process.env.TEST_MONGODB_URI) {
    const mongo = await startTestMongo();
    started.push(mongo);
    process.env.TEST_MONGODB_URI = mongo.uri;
  }
}
