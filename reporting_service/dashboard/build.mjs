// Bundles the dashboard that reporting serves at GET /: dist/dashboard.js (one minified IIFE with uPlot
// inside), dist/dashboard.css (our styles with uPlot's) and dist/index.html (copied). `tsc -b` (the root
// build) type-checks src/ through tsconfig.json; nothing here loads from another host at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** uPlot is MIT-licensed: its notice travels with the bundle. */
const UPLOT_NOTICE =
  '/*! includes uPlot (https://github.com/leeoniya/uPlot), Copyright (c) 2025 Leon Sorokin, MIT License */';
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(out, 'dashboard.js'),
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  banner: { js: UPLOT_NOTICE },
  logLevel: 'warning',
});
await build({
  entryPoints: [join(here, 'src/style.css')],
  outfile: join(out, 'dashboard.css'),
  bundle: true,
  minify: true,
  legalComments: 'none',
  banner: { css: UPLOT_NOTICE },
  logLevel: 'warning',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));
