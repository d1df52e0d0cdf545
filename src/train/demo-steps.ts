/**
 * The modelling half of `moodlens demo`: train the paper's model and MM's benchmark on the demo
 * study, evaluate both on the test split, and write a small report (markdown + SVG chart) and
 * the paper model's predictions with intervals. Sized to finish in a few minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initNodeBackend } from './backend-node.js';
import { presetConfig } from './presets.js';
import { loadDataset, makeSplit } from './study-node.js';
import { fitModel, predictMembers } from './fit.js';
import { evaluatePredictions } from '../eval/evaluate.js';
import { baselineSummaries, markdownTable, summarizeRow, svgChart } from '../eval/report.js';
import { renderEvaluation, renderLearnedWeights } from '../eval/render.js';

export async function demoModelSteps(study: string, out: string, step: (n: number, what: string) => void, first: number, epochs = 10): Promise<void> {
  await initNodeBackend();
  const paper = presetConfig('paper', { train: { epochs } });
  const baseline = presetConfig('baseline', { train: { epochs } });
  const ds = await loadDataset(study, paper.train.policy);
  const split = makeSplit(ds, 'chronological', 0);
  mkdirSync(out, { recursive: true });

  step(first, `train the paper's model (DRUW fusion, macro-micro, DRUW loss, person-mean anchor, ensemble of ${paper.train.ensemble}; ≤ ${epochs} epochs) → ${join(out, 'paper')}`);
  const fp = await fitModel(ds, split, paper, { out: join(out, 'paper') });
  step(first + 1, `train MM's benchmark (concatenation, per-user FFNN, equal weights) → ${join(out, 'baseline')}`);
  const fb = await fitModel(ds, split, baseline, { out: join(out, 'baseline') });

  step(first + 2, 'evaluate both on the test split (CCC, participant-bootstrap 95 % CIs)');
  const ep = evaluatePredictions(ds, split.test, predictMembers(fp.members, ds, split.test));
  const eb = evaluatePredictions(ds, split.test, predictMembers(fb.members, ds, split.test));
  console.log(renderEvaluation(ep, 'paper model'));
  console.log(`benchmark: mean CCC ${eb.meanCCC.toFixed(3)} [${eb.meanCiLow.toFixed(3)}, ${eb.meanCiHigh.toFixed(3)}]`);

  step(first + 3, `report → ${join(out, 'report.md')}, ${join(out, 'report.svg')}`);
  const row = (name: string, e: typeof ep) => summarizeRow(name, { model: name }, [{
    items: Object.fromEntries(Object.entries(e.items).map(([k, v]) => [k, v.ccc])), mean: e.meanCCC, ciLow: e.meanCiLow, ciHigh: e.meanCiHigh, seconds: 0,
  }]);
  // With the reference predictors on the same test reports (issue 16).
  const rows = [row('benchmark (concat / FFNN / equal)', eb), row('paper (DRUW / macro-micro / DRUW)', ep), ...baselineSummaries(ds, split, 'model')];
  const title = `Demo: test CCC on ${ds.participantIds.length} synthetic participants`;
  const m0 = fp.members[0];
  const weights = renderLearnedWeights(m0.model.report(), m0.mods.map((m) => m.name), ds.items.map((i) => i.id));
  writeFileSync(join(out, 'report.md'), markdownTable(title, rows) + `\nLearned weights of the paper model (member 1):\n${weights.map((l) => `- ${l}`).join('\n')}\n`);
  writeFileSync(join(out, 'report.svg'), await svgChart(title, rows));
  console.log(markdownTable(title, rows));
}
