#!/usr/bin/env node
// Thin launcher: the command line lives in src/cli, compiled to dist/ by `npm ci` (prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error('moodlens: dist/ is missing — run `npm run build` (npm install does it for you).');
  process.exit(2);
}
await import(main);
