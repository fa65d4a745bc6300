import { getFreePort } from './free-port';
import { spawnServer, type ChildServer } from './child-server';

export interface TestRedis extends ChildServer {
  port: number;
  url: string;
}

export interface TestRedisOptions {
  port?: number;
  /** 'no' (default), or an AOF fsync policy. */
  appendfsync?: 'no-aof' | 'everysec' | 'always';
  /** Working directory for AOF files. */
  dir?: string;
}

/** Starts a private redis-server on a free port, never the machine's shared one. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const port = options.port ?? (await getFreePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (!options.appendfsync || options.appendfsync === 'no-aof') args.push('--appendonly', 'no');
  else args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync);
  if (options.dir) args.push('--dir', options.dir);
  const { server } = await spawnServer('redis-server', args, /Ready to accept connections/, 'redis-server');
  return { ...server, port, url: `redis://127.0.0.1:${port}` };
}
