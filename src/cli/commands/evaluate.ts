/**
 * `moodlens evaluate --model MODEL --study DIR [--split test] [--json]`: per-item and mean CCC
 * with participant-bootstrap 95 % CIs, the mean CCC by missingness pattern, and the four reference
 * predictors (global mean, person mean, last report, person mean + ridge) on the same reports with
 * the model's paired difference to the best of them. `--plots DIR` writes ccc.svg,
 * predicted-vs-actual.svg and (for a model with prediction intervals) calibration.svg.
 */
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel } from '../../train/model-folder.js';
import { loadDataset, modelReports, modelSplit } from '../../train/study-node.js';
import { labelsOf, predictMembers } from '../../train/fit.js';
import { evaluateWithBaselines } from '../../eval/evaluate.js';
import { renderBaselines, renderEvaluation } from '../../eval/render.js';
import { resultJson } from '../../util/json.js';
import { coverageCurve } from '../../eval/conformal.js';
import { evaluationPlots, predictedActualPoints, writePlots } from '../../eval/plots.js';

/** Nominal coverages of the calibration plot (the model's own 1 − α is added). */
const LEVELS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

const Flags = z.object({
  model: z.string().min(1), study: z.string().min(1),
  split: z.enum(['train', 'dev', 'test']).default('test'),
  json: z.boolean().default(false),
  bootstrap: z.coerce.number().int().positive().default(1000),
  plots: z.string().min(1, 'give a folder (--plots DIR)').optional(),
});

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('evaluate')
    .description('per-item and mean CCC with bootstrap CIs (also by missingness pattern) of a model on a study split')
    .requiredOption('--model <dir>', 'model folder written by `moodlens train`')
    .requiredOption('--study <dir>', 'study folder')
    .option(...opt('--split <which>', 'train | dev | test (the split saved with the model)'))
    .option('--json', 'print JSON: {meanCCC, items: {<item>: {ccc, ciLow, ciHigh, n}}, byPattern, baselines: {globalMean, personMean, lastReport, personMeanRidge}, vsBestBaseline, …}')
    .option(...opt('--bootstrap <B>', 'bootstrap replicates'))
    .option(...opt('--plots <dir>', 'also write SVG plots there: ccc.svg, predicted-vs-actual.svg, calibration.svg (the intervals\' nominal vs observed coverage)'))
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'evaluate');
      await initNodeBackend();
      const m = loadModel(f.model);
      const ds = await loadDataset(f.study, m.config.train.policy, { targets: { extra: m.items.map((i) => i.id) } });
      const idx = modelReports(ds, m, f.split, f.study);
      const split = modelSplit(ds, m), predicted = predictMembers(m.members, ds, idx);
      const e = evaluateWithBaselines(ds, split, idx, predicted, { B: f.bootstrap });
      if (f.json) console.log(resultJson({ split: f.split, ...e }));
      else console.log(`${renderEvaluation(e, `${f.model} on ${f.study} (${f.split})`)}\n${renderBaselines(e)}`);
      if (f.plots) {
        // The intervals are fitted on the development set as training fits them; on dev itself the coverage is in-sample.
        const levels = [...new Set([...LEVELS, ...(m.conformal ? [1 - m.conformal.alpha] : [])])].sort((a, b) => a - b);
        const coverage = m.conformal && split.dev.length
          ? coverageCurve({ actual: labelsOf(ds, split.dev), predicted: predictMembers(m.members, ds, split.dev) }, { actual: labelsOf(ds, idx), predicted }, ds.items.map((it) => it.id), levels)
          : null;
        const what = `${basename(resolve(f.model))} on the ${f.split} split (${e.n} reports${f.split === 'dev' ? '; intervals fitted on these reports' : ''})`;
        const paths = await writePlots('evaluate', f.plots, evaluationPlots(e, predictedActualPoints(ds, idx, predicted), what, coverage));
        (f.json ? console.error : console.log)(`wrote ${paths.join(', ')}${coverage ? '' : ' (no calibration.svg: the model has no prediction intervals or no development reports)'}`);
      }
    });
}
