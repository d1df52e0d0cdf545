/**
 * `moodlens compare --study DIR --model A --model B [--split test] [--json] [--bootstrap B]`:
 * both models predict the same instances of the study split; the paired participant bootstrap
 * (src/eval/compare.ts) gives, per item and for the mean CCC, A − B with its 95 % CI and the
 * share of resamples in which A beats B.
 *
 * A "model" is a model folder written by `moodlens train`, or a run file of `moodlens experiment`
 * (`runs/<row>-seed<k>.json`, which keeps the test predictions with their report ids), so the
 * rows of Tables 2 and 3 can be compared without retraining. Instances are matched by report id;
 * only instances both models predicted are compared (the command says how many were dropped).
 * `--plots DIR` writes differences.svg (A − B per item and for the mean, with the CIs).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import Table from 'cli-table3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { InputError, UsageError } from '../../util/errors.js';
import type { Dataset, MissingPolicy } from '../../data/dataset.js';
import { pairedCccComparison, type PairedComparison } from '../../eval/compare.js';
import { resultJson } from '../../util/json.js';
import { comparisonPlots, writePlots } from '../../eval/plots.js';

const Flags = z.object({
  study: z.string().min(1),
  model: z.array(z.string().min(1)).length(2, 'give exactly two: --model A --model B'),
  split: z.enum(['train', 'dev', 'test']).default('test'),
  json: z.boolean().default(false),
  bootstrap: z.coerce.number().int().positive().default(2000),
  seed: z.coerce.number().int().nonnegative().default(1),
  plots: z.string().min(1, 'give a folder (--plots DIR)').optional(),
});

/** Test predictions saved in an experiment run file (src/train/experiment-run.ts). */
const RunFileSchema = z.object({
  key: z.string(),
  test: z.object({ reportIds: z.array(z.string()), items: z.array(z.string()), predicted: z.array(z.number().nullable()) }),
});

interface Predictions { label: string; items: string[]; byReport: Map<string, ArrayLike<number>> }

function readRunFile(path: string, split: string): Predictions {
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError([{ file: path, message: `not valid JSON: ${(e as Error).message}` }]); }
  const r = RunFileSchema.safeParse(raw);
  if (!r.success) {
    throw new InputError(r.error.issues.map((i) => ({ file: path, field: i.path.join('.'),
      message: `${i.message}${i.path[0] === 'test' ? ' (run files written before `experiment` kept test predictions must be re-run)' : ''}` })));
  }
  if (split !== 'test') throw new UsageError(`compare: ${path} is an experiment run file, which holds test predictions only (use --split test)`);
  const { reportIds, items, predicted } = r.data.test;
  const K = items.length;
  if (predicted.length !== reportIds.length * K) throw new InputError([{ file: path, field: 'test.predicted', message: `expected ${reportIds.length} × ${K} values, got ${predicted.length}` }]);
  const byReport = new Map<string, ArrayLike<number>>();
  reportIds.forEach((id, i) => byReport.set(id, predicted.slice(i * K, (i + 1) * K).map((v) => v ?? NaN)));
  return { label: basename(path, '.json'), items, byReport };
}

async function modelPredictions(dir: string, study: string, split: string, datasets: Map<MissingPolicy, Promise<Dataset>>): Promise<Predictions> {
  const [{ initNodeBackend }, { loadModel }, { loadDataset, modelReports }, { predictMembers }] = await Promise.all([
    import('../../train/backend-node.js'), import('../../train/model-folder.js'), import('../../train/study-node.js'), import('../../train/fit.js'),
  ]);
  await initNodeBackend();
  const m = loadModel(dir);
  const policy = m.config.train.policy;
  if (!datasets.has(policy)) datasets.set(policy, loadDataset(study, policy));
  const ds = await datasets.get(policy)!;
  const idx = modelReports(ds, m, split, study);
  const pred = predictMembers(m.members, ds, idx);
  const K = ds.items.length;
  const byReport = new Map<string, ArrayLike<number>>();
  idx.forEach((i, r) => byReport.set(ds.reportIds[i], pred.subarray(r * K, (r + 1) * K)));
  for (const mm of m.members) mm.model.dispose();
  return { label: basename(dir), items: ds.items.map((it) => it.id), byReport };
}

export function renderComparison(c: PairedComparison, a: string, b: string, n: number): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
  const s = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(3) : '—');
  const t = new Table({ head: ['item', `A CCC`, `B CCC`, 'A − B', `${Math.round(c.level * 100)} % CI of A − B`, 'share A > B', 'n'], style: { head: [], border: [] } });
  for (const [id, r] of Object.entries(c.items)) t.push([id, f(r.a), f(r.b), s(r.diff), `[${s(r.ciLow)}, ${s(r.ciHigh)}]`, f(r.shareAGreater), r.n]);
  const m = c.mean;
  t.push(['mean', f(m.a), f(m.b), s(m.diff), `[${s(m.ciLow)}, ${s(m.ciHigh)}]`, f(m.shareAGreater), m.n]);
  const verdict = m.ciLow > 0 ? 'A beats B: the CI of the difference of mean CCC is above 0'
    : m.ciHigh < 0 ? 'B beats A: the CI of the difference of mean CCC is below 0'
      : 'no difference shown: the CI of the difference of mean CCC contains 0';
  return `A = ${a}\nB = ${b}\n${n} instances of ${c.participants} participants; paired participant bootstrap, B = ${c.B}, seed ${c.seed}\n${t.toString()}\n${verdict}`;
}

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('compare')
    .description('paired participant-bootstrap comparison of two models on the same instances: CCC of A − B per item and mean, with CIs')
    .requiredOption('--study <dir>', 'study folder')
    .requiredOption('--model <path>', 'model folder (moodlens train) or experiment run file (runs/<row>-seed<k>.json); give it twice: A then B',
      (v: string, prev: string[] = []) => [...prev, v])
    .option(...opt('--split <which>', 'train | dev | test (the split saved with each model)'))
    .option('--json', 'print JSON: {a, b, n, participants, mean: {a, b, diff, ciLow, ciHigh, shareAGreater}, items: {...}}')
    .option(...opt('--bootstrap <B>', 'bootstrap replicates'))
    .option(...opt('--seed <n>', 'seed of the resampling'))
    .option(...opt('--plots <dir>', 'also write differences.svg there: A − B per item with its CI and a zero line'))
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'compare');
      if (!existsSync(f.study)) throw new UsageError(`compare: study folder ${f.study} not found`);
      const datasets = new Map<MissingPolicy, Promise<Dataset>>();
      const load = async (p: string): Promise<Predictions> => {
        if (!existsSync(p)) throw new UsageError(`compare: ${p} not found (a model folder or an experiment run file)`);
        if (statSync(p).isDirectory()) {
          if (!existsSync(join(p, 'config.json'))) throw new UsageError(`compare: ${p} is not a model folder (no config.json)`);
          return modelPredictions(p, f.study, f.split, datasets);
        }
        return readRunFile(p, f.split);
      };
      const A = await load(f.model[0]), B = await load(f.model[1]);
      if (A.items.join(',') !== B.items.join(',')) throw new UsageError(`compare: the two models predict different items (${A.items.join(',')} vs ${B.items.join(',')})`);
      // Labels: from the study (any policy keeps every report's items; reports not in it are dropped).
      const { loadDataset } = await import('../../train/study-node.js');
      const ds = await (datasets.values().next().value ?? loadDataset(f.study, 'masked'));
      const row = new Map(ds.reportIds.map((id, i) => [id, i]));
      const common = [...A.byReport.keys()].filter((id) => B.byReport.has(id) && row.has(id));
      const dropped = Math.max(A.byReport.size, B.byReport.size) - common.length;
      if (common.length < 2) throw new UsageError(`compare: the two models share ${common.length} ${f.split} instances of this study (different studies or splits?)`);
      const K = A.items.length, n = common.length;
      const dsK = ds.items.map((it) => it.id);
      const col = A.items.map((id) => dsK.indexOf(id));
      if (col.some((c) => c < 0)) throw new UsageError(`compare: the study lacks item(s) ${A.items.filter((_, k) => col[k] < 0).join(', ')}`);
      const actual = new Float64Array(n * K), pa = new Float64Array(n * K), pb = new Float64Array(n * K);
      const participant: number[] = [];
      common.forEach((id, r) => {
        const i = row.get(id)!;
        participant.push(ds.participant[i]);
        const a = A.byReport.get(id)!, b = B.byReport.get(id)!;
        for (let k = 0; k < K; k++) { actual[r * K + k] = ds.labels[i * dsK.length + col[k]]; pa[r * K + k] = a[k]; pb[r * K + k] = b[k]; }
      });
      const c = pairedCccComparison({ participant, items: A.items, actual, predictedA: pa, predictedB: pb }, { B: f.bootstrap, seed: f.seed });
      if (f.json) {
        console.log(resultJson({ a: f.model[0], b: f.model[1], split: f.split, n, dropped, ...c }));
      } else {
        console.log(renderComparison(c, f.model[0], f.model[1], n));
        if (dropped > 0) console.log(`(${dropped} instances predicted by only one model were left out)`);
      }
      if (f.plots) {
        const paths = await writePlots('compare', f.plots, comparisonPlots(c, `A (${A.label})`, `B (${B.label})`));
        (f.json ? console.error : console.log)(`wrote ${paths.join(', ')}`);
      }
    });
}
