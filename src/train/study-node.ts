/** Study folder → Dataset and split, for the commands (Node: reads files). */
import { buildDataset, chronologicalSplit, participantHeldOutSplit } from '../data/index.js';
import type { Dataset, MissingPolicy, Split } from '../data/dataset.js';
import { splitFromIds, type LoadedModel } from './model-folder.js';

export async function loadDataset(study: string, policy: MissingPolicy): Promise<Dataset> {
  const { dataset } = await buildDataset(study, { policy, progress: !process.env.MOODLENS_QUIET });
  if (dataset.n === 0) throw new Error(`${study}: no usable reports under the "${policy}" policy`);
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
  if (which !== 'train' && which !== 'dev' && which !== 'test') throw new Error(`--split must be train, dev or test (got ${which})`);
  return split[which];
}
