/**
 * Leave-one-speaker-out 7-class emotion recognition on EmoDB from the 88 eGeMAPS functionals
 * (mean imputation, standardisation, multinomial logistic regression with C = 0.5), printing the
 * unweighted average recall. Reference (openSMILE 3.0 eGeMAPSv02, sklearn): 0.612.
 *   npx tsx bench/speech/emodb-uar.ts [--pipeline [--no-vad]] [--wav-dir DIR] [--cache FILE] [--only NAME,NAME] [--smile-csv DIR]
 * --wav-dir DIR reads the files from DIR instead of EmoDB's own folder (e.g. the 16 kHz sox copies
 * the parity harness and openSMILE read).
 * --smile-csv DIR classifies openSMILE's own functionals instead (DIR/<file stem>.csv, as the parity
 * harness caches them), so both feature sets go through the same classifier and folds.
 * Default: eGeMAPS on the files as they are (22.05 kHz), as openSMILE was run; --pipeline runs the
 * whole preprocessing chain first (16 kHz, VAD).
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '../../src/signal/wav.js';
import { extractEgemaps, EGEMAPS_NAMES } from '../../src/signal/speech/egemaps.js';
import { speechFeaturesFromWav } from '../../src/signal/speech/pipeline.js';
import { fitLogistic, predictLogistic, fitStandardizer, standardize, unweightedAverageRecall } from '../../src/eval/logistic.js';

const root = join(process.cwd(), '..', 'shared', 'data', 'emodb');
if (!existsSync(join(root, 'labels.csv'))) { console.log(`EmoDB not found at ${root}: skipped`); process.exit(0); }
const args = process.argv.slice(2);
const pipeline = args.includes('--pipeline');
const noVad = args.includes('--no-vad');
const cacheIdx = args.indexOf('--cache');
const cacheFile = cacheIdx >= 0 ? args[cacheIdx + 1] : null;
const wavDir = args.includes('--wav-dir') ? args[args.indexOf('--wav-dir') + 1] : join(root, 'wav');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;

const lines = readFileSync(join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
const items = lines.map((l) => { const c = l.split(','); return { file: c[0], speaker: c[1], emotion: c[6] }; });
let X: number[][];
const smileCsv = args.includes('--smile-csv') ? args[args.indexOf('--smile-csv') + 1] : null;
if (smileCsv) {
  X = items.map((it) => {
    const l = readFileSync(join(smileCsv, it.file.replace(/\.wav$/i, '.csv')), 'utf8').trim().split('\n');
    const head = l[0].split(';'), row = l[1].split(';');
    return EGEMAPS_NAMES.map((n) => Number(row[head.indexOf(n)]));
  });
} else if (cacheFile && existsSync(cacheFile)) X = JSON.parse(readFileSync(cacheFile, 'utf8'));
else {
  const t0 = performance.now();
  X = items.map((it) => {
    const bytes = readFileSync(join(wavDir, it.file));
    if (pipeline) {
      const r = speechFeaturesFromWav(bytes, { vad: !noVad });
      return r.ok ? EGEMAPS_NAMES.map((n) => r.features.functionals[n]) : EGEMAPS_NAMES.map(() => NaN);
    }
    const w = decodeWav(bytes);
    const f = extractEgemaps(w.mono, w.sampleRate).functionals;
    return EGEMAPS_NAMES.map((n) => f[n]);
  });
  console.log(`features of ${items.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (cacheFile) writeFileSync(cacheFile, JSON.stringify(X));
}
const cols = only ? EGEMAPS_NAMES.map((n, j) => (only.some((o) => n.includes(o)) ? j : -1)).filter((j) => j >= 0) : EGEMAPS_NAMES.map((_, j) => j);
const emotions = [...new Set(items.map((i) => i.emotion))].sort();
const y = items.map((i) => emotions.indexOf(i.emotion));
const speakers = [...new Set(items.map((i) => i.speaker))].sort();
const pred = new Array<number>(items.length);
for (const s of speakers) {
  const tr = items.map((it, i) => (it.speaker !== s ? i : -1)).filter((i) => i >= 0);
  const te = items.map((it, i) => (it.speaker === s ? i : -1)).filter((i) => i >= 0);
  const sel = (i: number) => cols.map((j) => X[i][j]);
  const st = fitStandardizer(tr.map(sel));
  const m = fitLogistic(tr.map((i) => standardize(st, sel(i))), tr.map((i) => y[i]), { C: 0.5, maxIter: 2000 });
  for (const i of te) pred[i] = predictLogistic(m, standardize(st, sel(i)));
}
const uar = unweightedAverageRecall(y, pred);
const nonFinite = X.flat().filter((v) => !Number.isFinite(v)).length;
console.log(`EmoDB LOSO 7-class UAR (${cols.length} features${smileCsv ? `, openSMILE's functionals from ${smileCsv}` : pipeline ? (noVad ? ', pipeline without VAD (16 kHz)' : ', full pipeline (16 kHz + VAD)') : ''}): ${uar.toFixed(3)}  (openSMILE eGeMAPSv02: 0.612; non-finite values: ${nonFinite})`);
