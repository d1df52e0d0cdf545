/** Study folder → Dataset and split, for the commands (Node: reads files). */
import { buildDataset, chronologicalSplit, participantHeldOutSplit } from '../data/index.js';
import type { Dataset, MissingPolicy, Split } from '../data/dataset.js';
import type { TargetOptions } from '../data/instruments.js';
import { formatIssue, InputError, UsageError } from '../util/errors.js';
import { splitFromIds, type LoadedModel } from './model-folder.js';

export interface LoadDatasetOptions {
  /**
   * A declared modality that no report has (absentModalities): 'refuse' (training: a model would
   * silently learn without it), 'warn' (one line on stderr each), or nothing (default).
   */
  absentModality?: 'refuse' | 'warn';
  /** Targets beyond the main numeric items (e.g. `{scores: ['phq9_total']}`; `{extra: model.items ids}` for a trained model). */
  targets?: TargetOptions;
}

export async function loadDataset(study: string, policy: MissingPolicy, o: LoadDatasetOptions = {}): Promise<Dataset> {
  const { dataset, absent } = await buildDataset(study, { policy, progress: !process.env.MOODLENS_QUIET, targets: o.targets });
  if (absent.length > 0 && o.absentModality === 'refuse') throw new InputError(absent);
  if (absent.length > 0 && o.absentModality === 'warn') for (const i of absent) console.error(`warning: ${formatIssue(i)}`);
  if (dataset.n === 0) throw new UsageError(`${study}: no usable reports under the "${policy}" policy (moodlens describe ${study} shows why reports are dropped)`);
  return dataset;
}

export type SplitKind = 'chronological' | 'participant';

export function makeSplit(ds: Dataset, kind: SplitKind, seed: number): Split {
  return kind === 'participant' ? participantHeldOutSplit(ds, { seed }) : chronologicalSplit(ds);
}

/** The split a model was trained with, mapped onto a freshly built dataset of the same study. */
export function modelSplit(ds: Dataset, m: LoadedModel): Split {
  return m.split ? splitFromIds(ds, m.split) : chronologicalSplit(ds);
}

export function pick(split: Split, which: string): Int32Array {
  if (which !== 'train' && which !== 'dev' && which !== 'test') throw new UsageError(`--split must be train, dev or test (got ${which})`);
  return split[which];
}

/**
 * One clear line when a model does not fit a study — other items or scales, other activity
 * channels or window length, other speech features — instead of an error deep in the
 * evaluation or a silent "0 predictions".
 */
export function checkModelFits(m: LoadedModel, ds: Dataset, study: string): void {
  const misfit = (what: string) => new UsageError(`the model in ${m.dir} does not fit ${study}: ${what} (a model trained on another study? train one on this study with \`moodlens train --study ${study}\`)`);
  const items = (a: Dataset['items']) => a.map((i) => `${i.id} ${i.min}–${i.max}`).join(', ');
  if (items(m.items) !== items(ds.items)) throw misfit(`it predicts ${items(m.items)}; the study's items are ${items(ds.items)}`);
  for (const mod of m.members.flatMap((x) => x.mods)) {
    if (mod.channel >= 0 && ds.channels[mod.channel] !== mod.name) throw misfit(`it reads activity channel ${mod.name}; the study's channels are ${ds.channels.join(', ')}`);
    if (mod.channel >= 0 && mod.dim !== ds.windowEpochs) throw misfit(`it reads windows of ${mod.dim} epochs; the study's window.epochs is ${ds.windowEpochs}`);
    if (mod.channel === -1 && (mod.dim !== ds.speechFeatures.length || (m.speechFeatures && m.speechFeatures.join() !== ds.speechFeatures.join()))) {
      throw misfit(`it reads ${mod.dim} speech features${m.speechFeatures ? ` (${m.speechFeatures.slice(0, 3).join(', ')}, …)` : ''}; the study has ${ds.speechFeatures.length}${ds.speechFeatures.length ? ` (${ds.speechFeatures.slice(0, 3).join(', ')}, …)` : ''}`);
    }
  }
}

/** The reports of the model's saved split `which` in this study, after checking that the model fits it. */
export function modelReports(ds: Dataset, m: LoadedModel, which: string, study: string): Int32Array {
  checkModelFits(m, ds, study);
  const idx = pick(modelSplit(ds, m), which);
  if (idx.length === 0) throw new UsageError(`none of the ${which} reports the model in ${m.dir} was trained with is in ${study} (a model trained on another study? train one on this study with \`moodlens train --study ${study}\`)`);
  return idx;
}
