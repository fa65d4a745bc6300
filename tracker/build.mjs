// Bundles the tracker with esbuild: dist/script.js (the tag: one minified IIFE) and dist/index.js (the ES
// module for bundlers). `tsc -b` (the root build) type-checks and writes the declarations.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const common = { bundle: true, target: ['es2017'], legalComments: 'none', logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [join(here, 'src/script.ts')],
  outfile: join(here, 'dist/script.js'),
  format: 'iife',
  minify: true,
});
await build({
  ...common,
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(here, 'dist/index.js'),
  format: 'esm',
  minify: false,
});
