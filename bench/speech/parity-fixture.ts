/**
 * Regenerates the committed openSMILE fixture test/fixtures/egemaps-opensmile/ that
 * test/signal/egemaps-opensmile-fixture.test.ts holds the project against:
 *
 *   npx tsx bench/speech/parity-fixture.ts PATH/SMILExtract PATH/eGeMAPSv02.conf [OUT_DIR]
 *
 * Writes the generated signals (test/signal/parity-signals.ts: seeded, 16-bit, 16 kHz; no
 * third-party audio) to a temporary folder, runs openSMILE's eGeMAPSv02 on each
 * (`SMILExtract -C CONF -I WAV -csvoutput F.csv -lldcsvoutput L.csv`), and keeps only its outputs:
 *   functionals.csv  signal;<the 88 functionals>            (one row per signal)
 *   lld.csv          signal;frameTime;<LLDs in LLD_KEEP>    (every 2nd 10 ms frame)
 * openSMILE's code and configuration stay outside the repository (its licence is research-only);
 * these files are numbers it computed on our own signals.
 */
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { paritySignals } from '../../test/signal/parity-signals.js';

export const LLD_KEEP = ['Loudness_sma3', 'alphaRatio_sma3', 'hammarbergIndex_sma3', 'slope0-500_sma3', 'slope500-1500_sma3',
  'spectralFlux_sma3', 'mfcc1_sma3', 'mfcc2_sma3', 'mfcc3_sma3', 'mfcc4_sma3', 'F0semitoneFrom27.5Hz_sma3nz'];

const [smile, conf, outArg] = process.argv.slice(2);
if (!smile || !conf) { console.error('usage: parity-fixture.ts PATH/SMILExtract PATH/eGeMAPSv02.conf [OUT_DIR]'); process.exit(2); }
const out = resolve(outArg ?? 'test/fixtures/egemaps-opensmile');
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'parity-fixture-'));
const parse = (p: string) => {
  const lines = readFileSync(p, 'utf8').trim().split('\n');
  return { head: lines[0].split(';'), rows: lines.slice(1).map((l) => l.split(';')) };
};
let funcHead: string[] | null = null;
const funcRows: string[] = [], lldRows: string[] = [];
for (const { name, wav } of paritySignals()) {
  const w = join(work, `${name}.wav`), f = join(work, `${name}.csv`), l = join(work, `${name}.lld.csv`);
  writeFileSync(w, wav);
  execFileSync(smile, ['-C', conf, '-I', w, '-csvoutput', f, '-lldcsvoutput', l, '-appendcsv', '0', '-appendcsvlld', '0', '-l', '0'], { stdio: 'ignore' });
  const fc = parse(f);
  const keep = fc.head.map((h, i) => [h, i] as const).filter(([h]) => h !== 'name' && h !== 'frameTime');
  funcHead ??= keep.map(([h]) => h);
  funcRows.push([name, ...keep.map(([, i]) => fc.rows[0][i])].join(';'));
  const lc = parse(l);
  const idx = ['frameTime', ...LLD_KEEP].map((h) => { const i = lc.head.indexOf(h); if (i < 0) throw new Error(`no ${h} in openSMILE's LLD output`); return i; });
  lc.rows.forEach((r, t) => { if (t % 2 === 0) lldRows.push([name, ...idx.map((i) => r[i])].join(';')); });
  console.log(`${name}: ${lc.rows.length} frames`);
}
writeFileSync(join(out, 'functionals.csv'), [['signal', ...funcHead!].join(';'), ...funcRows].join('\n') + '\n');
writeFileSync(join(out, 'lld.csv'), [['signal', 'frameTime', ...LLD_KEEP].join(';'), ...lldRows].join('\n') + '\n');
rmSync(work, { recursive: true, force: true });
console.log(`wrote ${out}/functionals.csv and lld.csv`);
