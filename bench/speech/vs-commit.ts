/**
 * The project's eGeMAPS against another version of itself, side by side in one process, on the same
 * WAV files: CPU time of each, alternating passes, and how far their outputs differ.
 *
 *   git archive <commit> src | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   npx tsx bench/speech/vs-commit.ts --base /tmp/base --dir WAV_DIR [--every 10] [--passes 8]
 *
 * `--base` is a folder holding the other version's `src/` (a checkout, or `git archive` of a commit)
 * with this checkout's node_modules reachable from it. Both versions run `speechFeaturesFromWav` with
 * its defaults on every file (one pass = all files), after two warm-up passes each; the median CPU
 * time over the passes and their ratio are the figures. Both share one fft.js instance (the same
 * package), so neither version's FFT calls are slowed by the other's array types. Then every
 * functional and every LLD frame of the two versions are compared.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as B from '../../src/signal/speech/pipeline.js';

const args = process.argv.slice(2);
const opt = (k: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const base = opt('--base'), dir = opt('--dir');
if (!base || !dir) {
  console.error('usage: vs-commit.ts --base DIR_WITH_SRC --dir WAV_DIR [--every 10] [--passes 8]');
  process.exit(2);
}
const every = Number(opt('--every') ?? 10), passes = Number(opt('--passes') ?? 8);
const A = (await import(join(resolve(base), 'src/signal/speech/pipeline.ts'))) as typeof B;
const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.wav')).sort().filter((_, i) => i % every === 0)
  .map((f) => new Uint8Array(readFileSync(join(dir, f))));

/** CPU seconds of one pass of `m` over every file. */
function pass(m: typeof B): number {
  const c0 = process.cpuUsage();
  for (const b of files) { const r = m.speechFeaturesFromWav(b); if (!r.ok) throw new Error(r.message); }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}
pass(A); pass(B); pass(A); pass(B);
const ta: number[] = [], tb: number[] = [];
for (let p = 0; p < passes; p++) { ta.push(pass(A)); tb.push(pass(B)); }
const med = (v: number[]) => [...v].sort((x, y) => x - y)[(v.length - 1) >> 1];
const fmt = (v: number[]) => v.map((x) => x.toFixed(3)).join(' ');
console.log(`${files.length} files (every ${every}th of ${dir}), ${passes} alternating passes, CPU s per pass`);
console.log(`  --base: ${fmt(ta)}\n  this:   ${fmt(tb)}`);
console.log(`median --base ${med(ta).toFixed(3)} s, this ${med(tb).toFixed(3)} s: this is ${(med(ta) / med(tb)).toFixed(3)}× as fast`);

// outputs: the largest relative difference of a functional, and of an LLD (relative to its largest |value|)
let worst = 0, worstName = '(none)';
let names: readonly string[] = [];
let lldD = new Float64Array(0), lldS = new Float64Array(0);
for (const b of files) {
  const ra = A.speechFeaturesFromWav(b), rb = B.speechFeaturesFromWav(b);
  if (!ra.ok || !rb.ok) continue;
  for (const [k, v] of Object.entries(ra.features.functionals)) {
    const w = rb.features.functionals[k];
    const d = Number.isNaN(v) !== Number.isNaN(w) ? Infinity : Math.abs(v - w) / Math.max(1e-12, Math.abs(v));
    if (d > worst) { worst = d; worstName = k; }
  }
  names = ra.features.lld.names;
  if (lldD.length !== names.length) { lldD = new Float64Array(names.length); lldS = new Float64Array(names.length); }
  ra.features.lld.frames.forEach((fa, t) => {
    const fb = rb.features.lld.frames[t];
    for (let j = 0; j < fa.length; j++) { lldD[j] = Math.max(lldD[j], Math.abs(fa[j] - fb[j])); lldS[j] = Math.max(lldS[j], Math.abs(fa[j])); }
  });
}
console.log(`largest relative difference of a functional: ${worst.toExponential(2)} (${worstName})`);
const lld = names.map((n, j) => [n, lldD[j] / (lldS[j] || 1)] as const).filter(([, d]) => d > 0);
console.log(`LLD frames (float32): ${lld.length === 0 ? 'all identical' : lld.map(([n, d]) => `${n} ${d.toExponential(1)}`).join(', ')}`);
