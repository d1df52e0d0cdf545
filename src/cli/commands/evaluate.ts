/**
 * `moodlens evaluate --model MODEL --study DIR [--split test] [--json]`: per-item and mean CCC
 * with participant-bootstrap 95 % CIs, the mean CCC by missingness pattern, and the four reference
 * predictors (global mean, person mean, last report, person mean + ridge) on the same reports with
 * the model's paired difference to the best of them.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel } from '../../train/model-folder.js';
import { loadDataset, modelReports, modelSplit } from '../../train/study-node.js';
import { predictMembers } from '../../train/fit.js';
import { evaluateWithBaselines } from '../../eval/evaluate.js';
import { renderBaselines, renderEvaluation } from '../../eval/render.js';
import { resultJson } from '../../util/json.js';

const Flags = z.object({
  model: z.string().min(1), study: z.string().min(1),
  split: z.enum(['train', 'dev', 'test']).default('test'),
  json: z.boolean().default(false),
  bootstrap: z.coerce.number().int().positive().default(1000),
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
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'evaluate');
      await initNodeBackend();
      const m = loadModel(f.model);
      const ds = await loadDataset(f.study, m.config.train.policy);
      const idx = modelReports(ds, m, f.split, f.study);
      const e = evaluateWithBaselines(ds, modelSplit(ds, m), idx, predictMembers(m.members, ds, idx), { B: f.bootstrap });
      if (f.json) console.log(resultJson({ split: f.split, ...e }));
      else console.log(`${renderEvaluation(e, `${f.model} on ${f.study} (${f.split})`)}\n${renderBaselines(e)}`);
    });
}
