/**
 * `moodlens train --study DIR (--config FILE | --preset NAME) [--seed N] [--epochs N] --out MODEL`
 * Trains one model, keeps the best development checkpoint, calibrates the conformal intervals
 * and writes the model folder (with the test split's evaluation as evaluation.json). Training
 * stops early when the development mean CCC has not improved for `train.earlyStop` epochs (15
 * unless the config or --early-stop says otherwise). Re-running the same command after a kill
 * resumes from the last finished epoch; --out refuses another run's model unless --force.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { optionsFrom, parseFlags } from '../../util/flags.js';
import { UsageError } from '../../util/errors.js';
import { initNodeBackend } from '../../train/backend-node.js';
import { presetConfig, readConfigFile } from '../../train/presets.js';
import { loadDataset, makeSplit } from '../../train/study-node.js';
import { fitModel, predictMembers, runFingerprint } from '../../train/fit.js';
import { claimRunFolder, writeAtomic } from '../../train/model-folder.js';
import { join } from 'node:path';
import { evaluatePredictions, evaluateWithBaselines } from '../../eval/evaluate.js';
import { resultJson } from '../../util/json.js';
import { renderLearnedWeights } from '../../eval/render.js';

const Flags = z.object({
  study: z.string().min(1),
  config: z.string().optional(),
  preset: z.string().optional(),
  seed: z.coerce.number().int().min(0).optional(),
  epochs: z.coerce.number().int().positive().optional(),
  earlyStop: z.union([z.literal('off').transform(() => null), z.coerce.number().int().positive()]).optional(),
  lr: z.coerce.number().positive().optional(),
  batchSize: z.coerce.number().int().positive().optional(),
  split: z.enum(['chronological', 'participant']).default('chronological'),
  workers: z.coerce.number().int().positive().max(16).default(2),
  out: z.string().min(1),
  force: z.boolean().default(false),
  allowMissingModality: z.boolean().default(false),
  /** Extra targets: score columns (e.g. phq9_total) or "scores" for all. */
  targets: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$/, 'a comma-separated list of score columns (e.g. phq9_total) or "scores"').optional(),
});

export function register(program: Command): void {
  const opt = optionsFrom(Flags);
  program.command('train')
    .description('train a model on a study folder (resumes after a kill) and write a model folder')
    .requiredOption('--study <dir>', 'study folder')
    .option('--config <file>', 'config JSON ({model: {fusion, personalization, multitask, ...}, train: {...}})')
    .option('--preset <name>', 'named config: paper | monitor | paper-original (MM as published: a fixed 100 epochs) | baseline | paper-lr0.001')
    .option('--seed <n>', 'seed (initialisation, shuffling)')
    .option('--epochs <n>', 'maximum epochs (paper: 100)')
    .option('--early-stop <n|off>', 'stop after this many epochs without a better development mean CCC (default: the config\'s, 15 unless it says otherwise; off: every epoch, as the paper)')
    .option('--lr <x>', 'learning rate')
    .option('--batch-size <n>', 'batch size (paper: 16)')
    .option(...opt('--split <kind>', 'chronological (per participant 70/15/15, the paper) or participant (held-out participants)'))
    .option(...opt('--workers <n>', 'worker threads for the members of a seed ensemble (one core each)'))
    .requiredOption('--out <dir>', 'model folder to write (new or empty; the same command again resumes it)')
    .option('--force', 'replace the model already in --out (another run)')
    .option('--targets <list>', 'also predict these questionnaire scores (comma-separated, e.g. phq9_total; "scores" = every score of the study); default: the main numeric items')
    .option('--allow-missing-modality', 'train even when a declared modality is absent from every report (a warning instead of an error)')
    .addHelpText('after', `
Examples:
  moodlens train --study study --preset paper --out models/paper
  moodlens train --study study --config my.json --seed 3 --epochs 30 --out models/mine
  moodlens train --study study --preset paper --targets phq9_total --out models/with-phq9`)
    .action(async (raw: unknown) => {
      const f = parseFlags(Flags, raw, 'train');
      if (!!f.config === !!f.preset) throw new UsageError('train: give exactly one of --config FILE or --preset NAME');
      const override = { train: { ...(f.seed !== undefined && { seed: f.seed }), ...(f.epochs && { epochs: f.epochs }), ...(f.earlyStop !== undefined && { earlyStop: f.earlyStop }), ...(f.lr && { lr: f.lr }), ...(f.batchSize && { batchSize: f.batchSize }) } };
      const config = f.config ? readConfigFile(f.config, override) : presetConfig(f.preset!, override);
      await initNodeBackend();
      const ds = await loadDataset(f.study, config.train.policy, {
        absentModality: f.allowMissingModality ? 'warn' : 'refuse',
        targets: f.targets ? { scores: f.targets === 'scores' ? true : f.targets.split(',') } : undefined,
      });
      const split = makeSplit(ds, f.split, config.train.seed);
      claimRunFolder(f.out, runFingerprint(ds, split, config), f.force);
      console.log(`${ds.n} instances of ${ds.participantIds.length} participants; train ${split.train.length}, dev ${split.dev.length}, test ${split.test.length}`);
      console.log(`fusion ${config.model.fusion.name}, personalisation ${config.model.personalization.name}, multitask ${config.model.multitask.name}; ` +
        `≤ ${config.train.epochs} epochs${config.train.earlyStop === null ? ' (no early stopping)' : `, early stop after ${config.train.earlyStop} without improvement`}, batch ${config.train.batchSize}, lr ${config.train.lr}`);
      const t0 = Date.now();
      const fitted = await fitModel(ds, split, config, { out: f.out, workers: f.workers });
      const dev = evaluatePredictions(ds, split.dev, predictMembers(fitted.members, ds, split.dev), { B: 200 });
      const m = fitted.members[0];
      const ran = fitted.members.map((x) => x.history.length);
      console.log(`best development epoch ${fitted.members.map((x) => x.bestEpoch).join(', ')} of ${ran.join(', ')} run${fitted.members.length > 1 ? ` (${fitted.kind} members)` : ''}: dev mean CCC ${dev.meanCCC.toFixed(3)} [${dev.meanCiLow.toFixed(3)}, ${dev.meanCiHigh.toFixed(3)}]; ` +
        `${((Date.now() - t0) / 1000).toFixed(0)} s`);
      for (const line of renderLearnedWeights(m.model.report(), m.mods.map((x) => x.name), ds.items.map((i) => i.id))) console.log(`  ${line}`);
      // The test split's evaluation, stored beside the weights in `moodlens evaluate --json`'s
      // format (the dashboard shows it when the model is attached), written atomically.
      if (split.test.length > 0) {
        const test = evaluateWithBaselines(ds, split, split.test, predictMembers(fitted.members, ds, split.test), { B: 1000 });
        const v = test.vsBestBaseline;
        console.log(`test mean CCC ${test.meanCCC.toFixed(3)} [${test.meanCiLow.toFixed(3)}, ${test.meanCiHigh.toFixed(3)}] (${test.n} reports; evaluation.json); ` +
          `best baseline ${v.baseline} ${v.mean.b.toFixed(3)}, difference ${v.mean.diff.toFixed(3)} [${v.mean.ciLow.toFixed(3)}, ${v.mean.ciHigh.toFixed(3)}]`);
        writeAtomic(join(f.out, 'evaluation.json'), resultJson({ split: 'test', ...test }));
      }
      console.log(`wrote ${f.out}`);
    });
}
