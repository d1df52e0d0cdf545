/** One experiment job: train a config on a split, evaluate on test. Used in-process and by workers. */
import { makeConfig } from '../model/config.js';
import { evaluatePredictions } from '../eval/evaluate.js';
import { fitModel, predictMembers } from './fit.js';
import { findRow } from './experiments.js';
import type { Job, JobResult } from './experiment-job.js';

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
