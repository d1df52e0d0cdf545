/**
 * `moodlens evaluate --model MODEL --study DIR [--split test] [--json]`: per-item and mean CCC
 * with participant-bootstrap 95 % CIs, the mean CCC by missingness pattern, and the four reference
 * predictors (global mean, person mean, last report, person mean + ridge) on the same reports with
 * the model's paired difference to the best of them.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import Table from 'cli-table3';
import { parseFlags } from '../../util/flags.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel } from '../../train/model-folder.js';
import { loadDataset, modelSplit, pick } from '../../train/study-node.js';
import { predictMembers } from '../../train/fit.js';
import { evaluateWithBaselines, type Evaluation, type EvaluationWithBaselines } from '../../eval/evaluate.js';
import { BASELINE_LABELS, BASELINE_NAMES } from '../../eval/baselines.js';
import { resultJson } from '../../util/json.js';

const Flags = z.object({
  model: z.string().min(1), study: z.string().min(1),
  split: z.enum(['train', 'dev', 'test']).default('test'),
  json: z.boolean().default(false),
  bootstrap: z.coerce.number().int().positive().default(1000),
});

export function renderEvaluation(e: Evaluation, title: string): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const t = new Table({ head: ['item', 'CCC', '95 % CI', 'n'], style: { head: [], border: [] } });
  for (const [id, r] of Object.entries(e.items)) t.push([id, f(r.ccc), `[${f(r.ciLow)}, ${f(r.ciHigh)}]`, r.n]);
  t.push(['mean (SD)', `${f(e.meanCCC)} (${f(e.sdCCC)})`, `[${f(e.meanCiLow)}, ${f(e.meanCiHigh)}]`, e.n]);
  const p = new Table({ head: ['modalities present', 'n', 'mean CCC', '95 % CI'], style: { head: [], border: [] } });
  for (const r of e.byPattern) p.push([r.pattern, r.n, f(r.meanCCC), `[${f(r.ciLow)}, ${f(r.ciHigh)}]`]);
  return `${title}: ${e.n} reports of ${e.participants} participants (CIs: participant bootstrap)\n${t.toString()}\nby missingness pattern\n${p.toString()}`;
}

/** The four reference predictors on the same instances, and the model's paired gain over the best. */
export function renderBaselines(e: EvaluationWithBaselines): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const sg = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(3) : '—');
  const t = new Table({ head: ['predictor (same reports)', 'mean CCC', '95 % CI'], style: { head: [], border: [] } });
  t.push(['model', f(e.meanCCC), `[${f(e.meanCiLow)}, ${f(e.meanCiHigh)}]`]);
  for (const b of BASELINE_NAMES) t.push([`${BASELINE_LABELS[b]} (${b})`, f(e.baselines[b].meanCCC), `[${f(e.baselines[b].meanCiLow)}, ${f(e.baselines[b].meanCiHigh)}]`]);
  const v = e.vsBestBaseline.mean;
  return `reference predictors\n${t.toString()}\nmodel − best baseline (${e.vsBestBaseline.baseline}): ${sg(v.diff)} [${sg(v.ciLow)}, ${sg(v.ciHigh)}] ` +
    `(paired participant bootstrap, B = ${e.vsBestBaseline.B}; model ahead in ${(100 * v.shareAGreater).toFixed(1)} % of resamples)`;
}

export function register(program: Command): void {
  program.command('evaluate')
    .description('per-item and mean CCC with bootstrap CIs (also by missingness pattern) of a model on a study split')
    .requiredOption('--model <dir>', 'model folder written by `moodlens train`')
    .requiredOption('--study <dir>', 'study folder')
    .option('--split <which>', 'train | dev | test (the split saved with the model)', 'test')
    .option('--json', 'print JSON: {meanCCC, items: {<item>: {ccc, ciLow, ciHigh, n}}, byPattern, baselines: {globalMean, personMean, lastReport, personMeanRidge}, vsBestBaseline, …}')
    .option('--bootstrap <B>', 'bootstrap replicates', '1000')
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'evaluate');
      await initNodeBackend();
      const m = loadModel(f.model);
      const ds = await loadDataset(f.study, m.config.train.policy);
      const idx = pick(modelSplit(ds, m), f.split);
      const e = evaluateWithBaselines(ds, modelSplit(ds, m), idx, predictMembers(m.members, ds, idx), { B: f.bootstrap });
      if (f.json) console.log(resultJson({ split: f.split, ...e }));
      else console.log(`${renderEvaluation(e, `${f.model} on ${f.study} (${f.split})`)}\n${renderBaselines(e)}`);
    });
}
