/**
 * Do the eGeMAPS features of a synthetic study's audio follow its ground truth?
 *   node bin/moodlens.js synth --out /tmp/s --participants 8 --days 5 --speech audio --seed 7
 *   node bin/moodlens.js features /tmp/s
 *   npx tsx bench/speech/synth-latent.ts /tmp/s
 * Prints Pearson r between measured functionals and the voice parameters the generator used, and
 * between the latent mood factors and their best-correlated features (pooled, and within person =
 * after removing each participant's mean).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readCsv } from '../../src/util/csv.js';

const dir = process.argv[2];
if (!dir || !existsSync(join(dir, 'speech_features.csv'))) { console.log('usage: npx tsx bench/speech/synth-latent.ts STUDY_DIR (after moodlens features STUDY_DIR)'); process.exit(0); }
const feats = new Map<string, Record<string, number>>();
let names: string[] = [];
for await (const r of readCsv(join(dir, 'speech_features.csv'))) {
  names = r.header.slice(1);
  feats.set(r.values.report_id, Object.fromEntries(names.map((n) => [n, Number(r.values[n])])));
}
const truth: Array<{ id: string; pid: string; v: Record<string, number> }> = [];
for await (const r of readCsv(join(dir, 'ground_truth', 'reports.csv'))) {
  if (!feats.has(r.values.report_id)) continue;
  truth.push({ id: r.values.report_id, pid: r.values.participant_id, v: Object.fromEntries(r.header.slice(5, -1).map((h) => [h, Number(r.values[h])])) });
}
function pearson(a: number[], b: number[]): number {
  const n = a.length; const ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return sab / Math.sqrt(saa * sbb);
}
function withinPerson(v: number[]): number[] {
  const sums = new Map<string, [number, number]>();
  truth.forEach((t, i) => { const s = sums.get(t.pid) ?? [0, 0]; s[0] += v[i]; s[1]++; sums.set(t.pid, s); });
  return v.map((x, i) => { const s = sums.get(truth[i].pid)!; return x - s[0] / s[1]; });
}
const f = (n: string) => truth.map((t) => feats.get(t.id)![n]);
const g = (n: string) => truth.map((t) => t.v[n]);
console.log(`${truth.length} recordings with features and ground truth`);
const pairs: Array<[string, string, (x: number) => number]> = [
  ['f0_hz', 'F0semitoneFrom27.5Hz_sma3nz_amean', (st) => 27.5 * 2 ** (st / 12)],
  ['jitter', 'jitterLocal_sma3nz_amean', (x) => x],
  ['shimmer_db', 'shimmerLocaldB_sma3nz_amean', (x) => x],
  ['loudness', 'loudness_sma3_amean', (x) => x],
  ['hnr_db', 'HNRdBACF_sma3nz_amean', (x) => x],
  ['rate_syll_per_s', 'VoicedSegmentsPerSec', (x) => x],
  ['intonation_st', 'F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2', (x) => x],
];
console.log('\nvoice parameter          measured functional                          r pooled   r within person');
for (const [gt, fn, tr] of pairs) {
  const a = g(gt), b = f(fn).map(tr);
  console.log(`${gt.padEnd(24)} ${fn.padEnd(44)} ${pearson(a, b).toFixed(3).padStart(8)} ${pearson(withinPerson(a), withinPerson(b)).toFixed(3).padStart(12)}`);
}
console.log('\nlatent factor  best-correlated features (r within person)');
for (const z of ['z_dep', 'z_pos', 'z_anx']) {
  const a = withinPerson(g(z));
  const rs = names.map((n) => [n, pearson(a, withinPerson(f(n)))] as const).filter(([, r]) => Number.isFinite(r)).sort((p, q) => Math.abs(q[1]) - Math.abs(p[1])).slice(0, 4);
  console.log(`${z.padEnd(14)} ${rs.map(([n, r]) => `${n} ${r.toFixed(3)}`).join(';  ')}`);
}
