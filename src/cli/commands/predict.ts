/**
 * `moodlens predict --model MODEL --study DIR [--split test] --out FILE`: a long CSV
 * participant_id,report_id,item,actual,predicted,lower,upper on each item's own scale, with the
 * split-conformal interval (1 − α coverage, α from the model's config) around each prediction;
 * predictions are rounded to the item's scale (itemDecimals: 1 decimal on 0–100, 3 on 0–1).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { CsvWriter } from '../../util/csv.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel } from '../../train/model-folder.js';
import { checkModelFits, loadDataset, modelReports } from '../../train/study-node.js';
import { predictMembers } from '../../train/fit.js';
import { conformalInterval } from '../../eval/conformal.js';
import { unscaleLabel } from '../../data/instances.js';
import { itemDecimals } from '../../data/study.js';

const Flags = z.object({
  model: z.string().min(1), study: z.string().min(1), out: z.string().min(1),
  split: z.enum(['train', 'dev', 'test', 'all']).default('test'),
});

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('predict')
    .description('predict every item of a study split, with conformal intervals, into a long CSV')
    .requiredOption('--model <dir>', 'model folder')
    .requiredOption('--study <dir>', 'study folder')
    .option(...opt('--split <which>', 'train | dev | test | all'))
    .requiredOption('--out <file>', 'CSV to write')
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'predict');
      await initNodeBackend();
      const m = loadModel(f.model);
      const ds = await loadDataset(f.study, m.config.train.policy, { targets: { extra: m.items.map((i) => i.id) } });
      checkModelFits(m, ds, f.study);
      const idx = f.split === 'all' ? Int32Array.from({ length: ds.n }, (_, i) => i) : modelReports(ds, m, f.split, f.study);
      const pred = predictMembers(m.members, ds, idx);
      const K = ds.items.length;
      const w = new CsvWriter(f.out, ['participant_id', 'report_id', 'item', 'actual', 'predicted', 'lower', 'upper']);
      const r6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : NaN);
      const decimals = ds.items.map(itemDecimals);
      for (let r = 0; r < idx.length; r++) {
        const i = idx[r];
        for (let k = 0; k < K; k++) {
          const it = ds.items[k], scale = (x: number) => unscaleLabel(it, x);
          const p = pred[r * K + k];
          const [lo, hi] = m.conformal ? conformalInterval(m.conformal, k, p) : [NaN, NaN];
          const rounded = (x: number) => (Number.isFinite(x) ? Number(scale(x).toFixed(decimals[k])) : NaN);
          await w.write([ds.participantIds[ds.participant[i]], ds.reportIds[i], it.id, r6(scale(ds.labels[i * K + k])), rounded(p), rounded(lo), rounded(hi)]);
        }
      }
      await w.close();
      console.log(`wrote ${idx.length * K} predictions (${idx.length} reports × ${K} items) to ${f.out}` +
        (m.conformal ? `; intervals: split-conformal, ${Math.round((1 - m.conformal.alpha) * 100)} % coverage` : ''));
    });
}
