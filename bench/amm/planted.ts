/**
 * The AMM and MIMML experiment designs on the planted two-modality study.
 *   npx tsx bench/amm/planted.ts --system amm|mimml [--decoy] [--rate 0.3] [--seeds 1,2,3]
 *     [--cue additive|pointer] [--parts ablation] [--epochs 25] [--participants 16] [--per 30] [--out bench/amm/results]
 * Writes <out>/planted-<system>-<tag>.md and .csv and prints the markdown.
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
const cue = arg('cue', 'additive') as 'additive' | 'pointer';
const parts = arg('parts', '');
const tag = `${cue === 'pointer' ? 'pointer' : decoy ? 'decoy' : 'plain'}-rate${rate}${parts ? '-' + parts.replace(/,/g, '+') : ''}`;

await initNodeBackend();
const data = plantedStudy({ participants: Number(arg('participants', '16')), perParticipant: Number(arg('per', '30')), stepsA: 8, stepsB: 10, decoy, cue, mainLabelRate: rate, seed: 11 });
const design = { modalities: ['activity', 'speech'], main: 'depressed', secondary: 'emotion' };
const partList = parts ? parts.split(',') : undefined;
const arms = system === 'amm' ? ammDesign(design, (partList ?? ['stl-mtl', 'ablation']) as Array<'stl-mtl' | 'ablation'>, false) : mimmlDesign(design, (partList ?? ['modalities', 'ablation']) as Array<'modalities' | 'ablation'>);
const t0 = performance.now();
const res = await runExperiment(data, arms, {
  seeds,
  train: { epochs, patience: 8, batch: 64, lr: 5e-3 },
  model: { hidden: 16, attention: 16, taskHidden: 16, channels: 16, width: 16, initScale: 0.3 },
  onRun: ({ arm, seed, index, total }) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${index + 1}/${total} ${arm.id} seed ${seed}\n`),
});
const md = experimentMarkdown(`${system.toUpperCase()} on the planted study (${tag})`, res) +
  `\nSettings: ${data.n} instances, hidden 16, U(−0.3, 0.3) init, Adam lr 5e-3, batch 64, ≤ ${epochs} epochs (patience 8), seeds ${seeds.join(',')}; total ${((performance.now() - t0) / 60000).toFixed(1)} min on a shared 2-core machine.\n`;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `planted-${system}-${tag}.md`), md);
writeFileSync(join(out, `planted-${system}-${tag}.csv`), csvLine(CSV_HEADER) + experimentCsvRows(res).map((r) => csvLine(r)).join(''));
console.log(md);
