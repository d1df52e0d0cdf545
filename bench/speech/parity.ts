/**
 * eGeMAPS parity harness: the project's 88 functionals (and 25 LLDs) against openSMILE's on a folder
 * of WAV files, both tools reading the same files.
 *
 *   npx tsx bench/speech/parity.ts --dir WAV_DIR --smile PATH/SMILExtract --config PATH/eGeMAPSv02.conf
 *       [--cache DIR] [--limit N] [--every K] [--lld] [--json FILE] [--vad] [--denoise]
 *
 * openSMILE is run once per file (`SMILExtract -C CONF -I WAV -csvoutput F.csv -lldcsvoutput F.lld.csv`)
 * and its outputs are kept in --cache (default /tmp/moodlens-parity/<dir name>), so later runs only
 * recompute the project's side; without --smile the cached outputs must exist. The project runs
 * `speechFeaturesFromWav` with its defaults (parity mode: no VAD, no denoising; 16 kHz files are
 * not resampled), as `moodlens features` does.
 *
 * Prints per functional: Pearson r, Spearman ρ, median relative difference |ours − theirs| / |theirs|
 * over the files, the means of both; then the per-family table and the counts of the issue's
 * targets (r ≥ 0.95, r < 0.8, median relative difference < 5 %). With --lld: per LLD over all frames
 * (F0-gated LLDs over the frames voiced in both) r and the median absolute difference, and the
 * voicing agreement.
 */
import { readFileSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, basename, resolve } from 'node:path';
import { EGEMAPS_NAMES, EGEMAPS_LLD_NAMES } from '../../src/signal/speech/egemaps.js';
import { speechFeaturesFromWav } from '../../src/signal/speech/pipeline.js';

const args = process.argv.slice(2);
const opt = (k: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const dir = opt('--dir');
if (!dir) { console.error('usage: parity.ts --dir WAV_DIR [--smile SMILExtract --config eGeMAPSv02.conf] [--cache DIR] [--limit N] [--every K] [--lld] [--json FILE]'); process.exit(2); }
const smile = opt('--smile'); const conf = opt('--config');
const cache = resolve(opt('--cache') ?? join('/tmp/moodlens-parity', basename(resolve(dir))));
const limit = Number(opt('--limit') ?? Infinity); const every = Number(opt('--every') ?? 1);
const withLld = args.includes('--lld');
mkdirSync(cache, { recursive: true });

const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.wav')).sort().filter((_, i) => i % every === 0).slice(0, limit);

/** Parse an openSMILE CSV (';'-separated, header line) into rows of name → value. */
export function readSmileCsv(path: string): Array<Record<string, number>> {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const head = lines[0].split(';');
  return lines.slice(1).map((l) => {
    const c = l.split(';'); const r: Record<string, number> = {};
    head.forEach((h, i) => { r[h] = Number(c[i]); });
    return r;
  });
}

function openSmile(file: string): { func: Record<string, number>; lld: Array<Record<string, number>> } {
  const stem = join(cache, file.replace(/\.wav$/i, ''));
  const fcsv = `${stem}.csv`, lcsv = `${stem}.lld.csv`;
  if (!existsSync(fcsv) || (withLld && !existsSync(lcsv))) {
    if (!smile || !conf) throw new Error(`no cached openSMILE output for ${file} in ${cache}: pass --smile and --config`);
    execFileSync(smile, ['-C', conf, '-I', join(dir!, file), '-csvoutput', fcsv, '-lldcsvoutput', lcsv, '-appendcsv', '0', '-appendcsvlld', '0', '-l', '0'], { stdio: 'ignore' });
  }
  return { func: readSmileCsv(fcsv)[0], lld: withLld ? readSmileCsv(lcsv) : [] };
}

const ours: number[][] = [], theirs: number[][] = [];
/** The file of each row of `ours` (for the worst files of a functional below r 0.95). */
const oursFiles: string[] = [];
const lldOurs: number[][][] = EGEMAPS_LLD_NAMES.map(() => []); // [lld][file] = frames
const lldTheirs: number[][][] = EGEMAPS_LLD_NAMES.map(() => []);
const pOpts = { vad: args.includes('--vad'), denoise: args.includes('--denoise') };
let ourCpu = 0;
for (const f of files) {
  const o = openSmile(f);
  const bytes = new Uint8Array(readFileSync(join(dir, f)));
  const c0 = process.cpuUsage();
  const r = speechFeaturesFromWav(bytes, pOpts);
  const cu = process.cpuUsage(c0); ourCpu += (cu.user + cu.system) / 1e6;
  if (!r.ok) { console.log(`${f}: rejected (${r.reason}); skipped`); continue; }
  ours.push(EGEMAPS_NAMES.map((n) => r.features.functionals[n])); oursFiles.push(f);
  theirs.push(EGEMAPS_NAMES.map((n) => o.func[n]));
  if (withLld) {
    const T = Math.min(o.lld.length, r.features.lld.frames.length);
    EGEMAPS_LLD_NAMES.forEach((n, j) => {
      const a: number[] = [], b: number[] = [];
      for (let t = 0; t < T; t++) { a.push(r.features.lld.frames[t][j]); b.push(o.lld[t][n]); }
      lldOurs[j].push(a); lldTheirs[j].push(b);
    });
  }
}

export function pearson(a: number[], b: number[]): number {
  const n = a.length; if (n < 2) return NaN;
  let ma = 0, mb = 0; for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; } ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
function ranks(a: number[]): number[] {
  const idx = a.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const r = new Array<number>(a.length);
  for (let i = 0; i < idx.length;) {
    let j = i; while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
const spearman = (a: number[], b: number[]) => pearson(ranks(a), ranks(b));
const median = (v: number[]) => { const s = [...v].sort((x, y) => x - y); const n = s.length; return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const relDiff = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-12));

/** The issue's families (issue 21). */
function family(n: string): string {
  if (n.startsWith('F0semitone')) return 'F0';
  if (n.startsWith('loudness_')) return 'loudness';
  if (/^(spectralFlux|alphaRatio|hammarberg)/.test(n) || n.startsWith('equivalentSound')) return 'flux, alpha ratio, Hammarberg, Leq';
  if (n.startsWith('slope')) return 'spectral slopes';
  if (n.startsWith('HNR')) return 'HNR';
  if (n.startsWith('mfcc')) return 'MFCC 1–4';
  if (/Segment|PeaksPerSec/.test(n)) return 'rates / segment lengths';
  if (/^F\dfrequency/.test(n)) return 'formant frequencies';
  if (/^F\dbandwidth/.test(n)) return 'formant bandwidths';
  if (/^F\damplitude/.test(n)) return 'formant amplitudes';
  if (/^(jitter|shimmer)/.test(n)) return 'jitter / shimmer';
  if (n.startsWith('logRelF0')) return 'H1–H2, H1–A3';
  return 'other';
}

interface Row { name: string; family: string; r: number; rho: number; mrd: number; meanOurs: number; meanTheirs: number }
const rows: Row[] = EGEMAPS_NAMES.map((name, j) => {
  const a = ours.map((v) => v[j]), b = theirs.map((v) => v[j]);
  const mean = (v: number[]) => v.reduce((s, u) => s + u, 0) / v.length;
  return { name, family: family(name), r: pearson(a, b), rho: spearman(a, b), mrd: median(a.map((u, i) => relDiff(u, b[i]))), meanOurs: mean(a), meanTheirs: mean(b) };
});

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '  nan');
const g = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));
console.log(`${ours.length} files from ${dir}; openSMILE outputs in ${cache}`);
console.log(`${'functional'.padEnd(46)} ${'r'.padStart(6)} ${'ρ'.padStart(6)} ${'medRel'.padStart(7)}  ${'mean ours'.padStart(10)} ${'mean oS'.padStart(10)}`);
for (const r of rows) console.log(`${r.name.padEnd(46)} ${f3(r.r).padStart(6)} ${f3(r.rho).padStart(6)} ${(100 * r.mrd).toFixed(1).padStart(6)}%  ${g(r.meanOurs).padStart(10)} ${g(r.meanTheirs).padStart(10)}`);
// Where a functional falls below r 0.95: the files that differ most (an outlier or two is a
// ratio near 0/0, e.g. a stddevNorm whose mean is near zero; a broad spread is a real difference).
for (const [j, r] of rows.entries()) {
  if (!(r.r < 0.95)) continue;
  const worst = ours.map((v, i) => ({ file: oursFiles[i], a: v[j], b: theirs[i][j] })).sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b)).slice(0, 3);
  console.log(`  ${r.name}: largest differences ${worst.map((w) => `${w.file} ${g(w.a)} vs ${g(w.b)}`).join('; ')}`);
}

const fams = [...new Set(rows.map((r) => r.family))];
console.log('\n| family | n | median r | min r | median ρ | median of median rel. diff |\n|---|---|---|---|---|---|');
for (const fam of fams) {
  const rs = rows.filter((r) => r.family === fam);
  const rr = rs.map((r) => (Number.isFinite(r.r) ? r.r : -1));
  console.log(`| ${fam} | ${rs.length} | ${median(rr).toFixed(2)} | ${Math.min(...rr).toFixed(2)} | ${median(rs.map((r) => r.rho)).toFixed(2)} | ${(100 * median(rs.map((r) => r.mrd))).toFixed(1)} % |`);
}
const ok = (r: Row) => Number.isFinite(r.r);
const n95 = rows.filter((r) => ok(r) && r.r >= 0.95).length;
const n80 = rows.filter((r) => !ok(r) || r.r < 0.8).length;
const n5 = rows.filter((r) => r.mrd < 0.05).length;
const n50 = rows.filter((r) => !ok(r) || r.r < 0.5).length;
console.log(`\nr ≥ 0.95: ${n95}/88   r < 0.8: ${n80}   r < 0.5: ${n50}   median rel. diff < 5 %: ${n5}/88   (target: ≥ 80, 0, ≥ 80)`);
console.log(`project CPU time: ${ourCpu.toFixed(2)} s for ${ours.length} files`);

const lldRows: Array<{ name: string; r: number; mad: number; n: number }> = [];
if (withLld) {
  console.log(`\n${'LLD'.padEnd(32)} ${'r'.padStart(6)} ${'med |Δ|'.padStart(9)} ${'frames'.padStart(8)}`);
  const f0j = EGEMAPS_LLD_NAMES.indexOf('F0semitoneFrom27.5Hz_sma3nz');
  let agree = 0, total = 0;
  EGEMAPS_LLD_NAMES.forEach((name, j) => {
    const gated = name.endsWith('_sma3nz');
    const a: number[] = [], b: number[] = [];
    lldOurs[j].forEach((fa, k) => {
      const fb = lldTheirs[j][k]; const va = lldOurs[f0j][k], vb = lldTheirs[f0j][k];
      for (let t = 0; t < fa.length; t++) {
        if (j === f0j) { total++; if ((va[t] > 0) === (vb[t] > 0)) agree++; }
        if (gated && !(va[t] > 0 && vb[t] > 0)) continue;
        if (!Number.isFinite(fa[t]) || !Number.isFinite(fb[t])) continue;
        a.push(fa[t]); b.push(fb[t]);
      }
    });
    const row = { name, r: pearson(a, b), mad: median(a.map((u, i) => Math.abs(u - b[i]))), n: a.length };
    lldRows.push(row);
    console.log(`${name.padEnd(32)} ${f3(row.r).padStart(6)} ${g(row.mad).padStart(9)} ${String(row.n).padStart(8)}`);
  });
  console.log(`voicing agreement (F0 > 0 in both or neither): ${(100 * agree / Math.max(1, total)).toFixed(1)} % of ${total} frames`);
}
const jsonOut = opt('--json');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ files: ours.length, rows, lld: lldRows, counts: { r95: n95, rBelow08: n80, mrd5: n5 } }, null, 1));
