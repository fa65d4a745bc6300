import path from 'node:path';
import { spawnServer, type ChildServer } from './child-server';

export interface TestMongo extends ChildServer {
  /** Base URI; use `mongoUriWithDatabase` for a database of one's own. */
  uri: string;
}

const ENGINE_PACKAGE = '@jongodb/memory-server-bin-linux-x64-gnu';

function engineBinary(): string {
  const packageJson = require.resolve(`${ENGINE_PACKAGE}/package.json`);
  return path.join(path.dirname(packageJson), 'bin', 'jongodb');
}

/** Starts the bundled MongoDB-wire test engine (in memory) on a free port. */
export async function startTestMongo(): Promise<TestMongo> {
  const { server, match } = await spawnServer(
    engineBinary(),
    ['--port=0'],
    /JONGODB_URI=(mongodb:\/\/\S+)/,
    'the MongoDB test engine',
  );
  return { ...server, uri: match[1]! };
}

/** The same server with another database name (one per test file keeps files parallel-safe). */
export function mongoUriWithDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
