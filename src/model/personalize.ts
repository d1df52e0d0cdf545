/**
 * Personalising for a new participant (SPEC §6) without touching the shared network: add one
 * row to every per-user table (starting from the mean user), then fit only those rows on the
 * participant's first k reports. The participant's activity standardisation comes from the same
 * k reports. Browser-safe: runs wherever the model runs.
 */
import { tf } from './backend.js';
import type { Dataset } from '../data/dataset.js';
import type { MoodModel } from './macro-micro.js';
import { fitNormalization, makeBatch, disposeBatch, prepare, type Modality, type NormStats } from './inputs.js';
import { taskLosses } from './losses.js';
import { UserBatch } from './user-table.js';

export interface PersonalizeOptions {
  /** Passes over the k reports (full batch). */
  epochs?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Loss for the few reports: MSE (default; stable on ~10 samples) or the model's task loss. */
  loss?: 'mse' | 'model';
}

export interface PersonalizeTarget {
  model: MoodModel; mods: Modality[]; norm: NormStats; participants: string[];
}

/**
 * Fit participant `participantId` from instances `idx` of `ds` (their first k reports).
 * Mutates the target: participants gets the id, norm gets their activity stats, tables a row.
 * Returns the seconds taken.
 */
export function personalizeParticipant(t: PersonalizeTarget, ds: Dataset, participantId: string, idx: Int32Array, o: PersonalizeOptions = {}): number {
  const t0 = Date.now();
  const tables = t.model.tables;
  if (tables.length === 0) throw new Error(`personalisation "${t.model.config.personalization.name}" has no per-user layer to fit`);
  if (idx.length === 0) throw new Error(`no reports of participant ${participantId} to personalise from`);
  let slot = t.participants.indexOf(participantId);
  if (slot < 0) {
    for (const tb of tables) slot = tb.addUser();
    t.participants.push(participantId);
  }
  const own = fitNormalization(ds, idx, t.norm.activityTransform).activity[participantId];
  if (own) t.norm.activity[participantId] = own;
  const prep = prepare(ds, t.mods, t.norm, t.participants);
  const epochs = o.epochs ?? 100, lr = o.lr ?? 0.05, mom = o.momentum ?? 0.9, wd = o.weightDecay ?? 1e-4;
  const b = makeBatch(prep, idx);
  for (let e = 0; e < epochs; e++) {
    const ub = new UserBatch(b.user, tables, true);
    const { value, grads } = tf.variableGrads(() => {
      const pred = t.model.forward(b.inputs, b.mask, ub, b.known);
      if (o.loss === 'model') return t.model.loss(pred, b.labels, b.labelMask).total;
      const { L, valid } = taskLosses('mse', b.labels, pred, b.labelMask);
      return tf.sum(tf.mul(L, valid)) as tf.Scalar;
    }, [...ub.rows.values()]);
    for (const [table, row] of ub.rows) table.step(b.user, grads[row.name].dataSync() as Float32Array, lr, mom, true, wd);
    tf.dispose([value, ...Object.values(grads)]); ub.dispose();
  }
  disposeBatch(b);
  return (Date.now() - t0) / 1000;
}
