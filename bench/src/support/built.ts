import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '@analytics/testkit';

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

interface EcosystemApp {
  name: string;
  node_args?: string;
}

/**
 * The Node flags a service runs with in production: its pm2 app's `node_args` (ecosystem.config.js takes
 * them from the service's own `npm start`), so the bench measures the memory settings users get.
 */
export function serviceNodeFlags(service: string): string[] {
  const { apps } = load(path.join(REPO_ROOT, 'ecosystem.config.js')) as { apps: EcosystemApp[] };
  const app = apps.find((candidate) => candidate.name === service);
  if (!app) throw new Error(`ecosystem.config.js has no app named ${service}`);
  return app.node_args ? app.node_args.split(' ') : [];
}
