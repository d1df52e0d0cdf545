/** One experiment job: train a config on a split, evaluate on test. Used in-process and by workers. */
import type { Dataset, Split } from '../data/dataset.js';
import { makeConfig, type ConfigInput } from '../model/config.js';
import { evaluatePredictions, type Evaluation } from '../eval/evaluate.js';
import { fitModel, predictMembers } from './fit.js';
import { findRow } from './experiments.js';

export interface Job {
  key: string; ds: Dataset; split: Split; config: ConfigInput; label: string;
  /** Also write the trained model folder here (an ensemble member trained on a worker thread). */
  out?: string;
}
export interface JobResult {
  key: string; evaluation: Evaluation; seconds: number; bestEpoch: number; epochs: number; report: Record<string, number[]>;
  /** Test predictions (n × K, row-major, 6 significant digits) by report id, for `moodlens compare`. */
  test: { reportIds: string[]; items: string[]; predicted: number[] };
}

export async function runJob(job: Job): Promise<JobResult> {
  const t0 = Date.now();
  const config = makeConfig(job.config);
  // A row's learning-rate multiplier (the "Equal" row: lr × K, see experiments.ts).
  const lrScale = findRow(job.label)?.lrScale;
  if (lrScale) config.train.lr *= lrScale;
  const fitted = await fitModel(job.ds, job.split, config, { quiet: true, label: job.label, ...(job.out ? { out: job.out } : {}) });
  const pred = predictMembers(fitted.members, job.ds, job.split.test);
  const evaluation = evaluatePredictions(job.ds, job.split.test, pred, { B: 500 });
  const m = fitted.members[0];
  const test = {
    reportIds: Array.from(job.split.test, (i) => job.ds.reportIds[i]),
    items: job.ds.items.map((it) => it.id),
    predicted: Array.from(pred, (v) => Number(v.toPrecision(6))),
  };
  const out: JobResult = { key: job.key, evaluation, seconds: (Date.now() - t0) / 1000, bestEpoch: m.bestEpoch, epochs: m.history.length, report: m.model.report(), test };
  for (const mm of fitted.members) mm.model.dispose();
  return out;
}
