/**
 * The AMM and MIMML experiment designs on the planted two-modality study.
 *   npx tsx bench/amm/planted.ts --system amm|mimml [--decoy] [--rate 0.3] [--seeds 1,2,3]
 *     [--cue additive|pointer|interaction|shared|imbalanced|redundant|complementary] [--parts ablation] [--epochs 25] [--participants 16] [--per 30]
 *     [--arms id,id] [--rate2 1] [--amp-b 1.5] [--noise-b 0.5] [--cut 0.6] [--patience 8] [--tag NAME] [--out bench/amm/results]
 *     [--data-seed 11] [--unlabelled] [--refine] [--view-noise 0.7] [--view-noise-a V] [--label-noise 0.25] [--participant-sd 0.2] [--weight-a 0.7] [--it-keys other|all] [--mi-weight 0.1] [--mi-target fused|modalities|both] [--aux-weight 0.3] [--nuisance 0] [--nuisance-amp 2]
 *     [--missing-train 0] [--missing-eval 0] [--missing-act-train 0] [--missing-act-eval 0] (fractions of reports without speech / activity; with --missing-eval or --missing-act-eval the
 *     bimodal arms are scored on every test report, speech or not) [--stepsA 8] [--stepsB 10] [--size 16]
 * Writes <out>/planted-<system>-<tag>.md, .csv and .predictions.json (for bench/amm/pool.ts) and prints the markdown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { plantedStudy } from '../../src/amm/planted.js';
import { ammDesign, mimmlDesign, runExperiment, experimentMarkdown, experimentCsvRows, CSV_HEADER } from '../../src/amm/experiment.js';
import { csvLine } from '../../src/util/csv.js';

const arg = (k: string, d: string) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const system = arg('system', 'amm');
const decoy = process.argv.includes('--decoy');
const rate = Number(arg('rate', '1'));
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const epochs = Number(arg('epochs', '25'));
const out = arg('out', 'bench/amm/results');
const cue = arg('cue', 'additive') as 'additive' | 'pointer' | 'interaction' | 'shared' | 'imbalanced' | 'redundant' | 'complementary';
const parts = arg('parts', '');
const rate2 = Number(arg('rate2', '1'));
/** A number flag that is left to the planted study's default when not given. */
const opt = (k: string) => (process.argv.includes(`--${k}`) ? Number(arg(k, '')) : undefined);
const ampB = opt('amp-b'), noiseB = opt('noise-b');
const cut = Number(arg('cut', '0.6'));
const patience = Number(arg('patience', '8'));
const size = Number(arg('size', '16')); // hidden units, attention / task LSTM / CNN channels / representation width
const dataSeed = Number(arg('data-seed', '11'));
const unlabelled = process.argv.includes('--unlabelled');
const itKeys = arg('it-keys', 'other'), miWeight = Number(arg('mi-weight', '0.1')), auxWeight = Number(arg('aux-weight', '0.3')), miTarget = arg('mi-target', 'fused');
const missingEval = Number(arg('missing-eval', '0')), missingActEval = Number(arg('missing-act-eval', '0'));
const tag = arg('tag', `${cue !== 'additive' ? cue : decoy ? 'decoy' : 'plain'}-rate${rate}${parts ? '-' + parts.replace(/,/g, '+') : ''}`);

await initNodeBackend();
const data = plantedStudy({ participants: Number(arg('participants', '16')), perParticipant: Number(arg('per', '30')), stepsA: Number(arg('stepsA', '8')), stepsB: Number(arg('stepsB', '10')), decoy, cue, mainLabelRate: rate, secondaryLabelRate: rate2, amplitudeB: ampB, noiseB, activityWeight: opt('weight-a'), viewNoise: opt('view-noise'), viewNoiseA: opt('view-noise-a'),
  labelNoise: opt('label-noise'), participantSd: opt('participant-sd'), emotionCut: cut, emotionClasses: process.argv.includes('--refine') ? 'refine' : 'symmetric', seed: dataSeed, nuisance: Number(arg('nuisance', '0')), nuisanceAmplitude: Number(arg('nuisance-amp', '2')),
  missingSpeech: { train: Number(arg('missing-train', '0')), eval: missingEval },
  missingActivity: { train: Number(arg('missing-act-train', '0')), eval: missingActEval } });
const design = { modalities: ['activity', 'speech'], main: 'depressed', secondary: 'emotion' };
const partList = parts ? parts.split(',') : undefined;
const arms = system === 'amm' ? ammDesign(design, (partList ?? ['stl-mtl', 'ablation']) as Array<'stl-mtl' | 'ablation'>, false) : mimmlDesign(design, (partList ?? ['modalities', 'ablation']) as Array<'modalities' | 'ablation'>);
const only = arg('arms', '');
const chosen = only ? arms.filter((a) => only.split(',').includes(a.id)) : arms;
const t0 = performance.now();
const res = await runExperiment(data, chosen, {
  seeds,
  train: { epochs, patience, batch: 64, lr: 5e-3, unlabelled },
  model: { hidden: size, attention: size, taskHidden: size, channels: size, width: size, initScale: 0.3, interTaskKeys: itKeys, miWeight, auxWeight, miTarget },
  bootstrap: Number(arg('bootstrap', '1000')),
  masked: missingEval > 0 || missingActEval > 0,
  onRun: ({ arm, seed, index, total }) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${index + 1}/${total} ${arm.id} seed ${seed}\n`),
});
const md = experimentMarkdown(`${system.toUpperCase()} on the planted study (${tag})`, res) +
  `\nSettings: ${data.n} instances, hidden ${size}, U(−0.3, 0.3) init, Adam lr 5e-3, batch 64, ≤ ${epochs} epochs (patience ${patience}), seeds ${seeds.join(',')}, data seed ${dataSeed}, I_t keys ${itKeys}, MIMML MI weight ${miWeight} (target ${miTarget}) / aux weight ${auxWeight}${unlabelled ? ', unlabelled training rows used' : ''}; total ${((performance.now() - t0) / 60000).toFixed(1)} min on a shared 2-core machine.\n`;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `planted-${system}-${tag}.md`), md);
writeFileSync(join(out, `planted-${system}-${tag}.predictions.json`), JSON.stringify(res.predictions));
writeFileSync(join(out, `planted-${system}-${tag}.csv`), csvLine(CSV_HEADER) + experimentCsvRows(res).map((r) => csvLine(r)).join(''));
console.log(md);
