import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '@analytics/common/testing';

export { REPO_ROOT };

const load = createRequire(__filename);

/**
 * Loads a module of a built service (`<service>/dist/...`, so `npm run build` first) at run time. The bench
 * types it with `typeof import('<service>/src/...')`, which the project references resolve to the built
 * declarations, so bench never compiles a service's sources itself.
 */
export function loadBuilt<T>(relativePath: string): T {
  return load(path.join(REPO_ROOT, relativePath)) as T;
}

/** The path of a bench script in bench/dist. */
export function benchScript(relativePath: string): string {
  return path.join(REPO_ROOT, 'bench', 'dist', relativePath);
}

/** The entry point of a built service. */
export function serviceEntry(service: string): string {
  return path.join(REPO_ROOT, service, 'dist', 'index.js');
}
