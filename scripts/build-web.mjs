#!/usr/bin/env node
// Bundles the browser front ends (src/web/app, src/web/dashboard) with esbuild into
// dist/web/public/{app,dashboard}/ and copies their static files. Part of `npm run build`.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web', 'public');
const t0 = Date.now();
for (const part of ['app', 'dashboard']) {
  const src = join(root, 'src', 'web', part);
  mkdirSync(join(out, part), { recursive: true });
  for (const f of readdirSync(src)) if (!f.endsWith('.ts')) cpSync(join(src, f), join(out, part, f));
  cpSync(join(root, 'src', 'web', 'style.css'), join(out, part, 'style.css'));
  const common = { outdir: join(out, part), bundle: true, platform: 'browser', target: ['es2022'], minify: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' };
  await build({ ...common, entryPoints: [join(src, 'main.ts')], format: 'esm' });
  // A service worker is a classic script: no module syntax.
  if (part === 'app') await build({ ...common, entryPoints: [join(src, 'sw.ts')], format: 'iife' });
}
if (!process.env.MOODLENS_QUIET) console.log(`build-web: dist/web/public in ${Date.now() - t0} ms`);
