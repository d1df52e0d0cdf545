/**
 * The whole model of MM (SPEC §2), one part per axis chosen by name in the config:
 *
 *   ZCM[60] ─ FFNN₂ ─┐
 *   PIM[60] ─ FFNN₂ ─┼─ fusion (DRUW) ─ personalisation (macro-micro:
 *   speech  ─ FFNN₂ ─┘     emotion FFNN → transformer → E_macro; P_u = λE_macro + (1−λ)FFNN_u(E_macro))
 *                       ─ 9 heads ─ sigmoid;   loss = multitask weighting (DRUW) of the per-task 1 − CCC
 */
import { tf } from './backend.js';
import { Rng } from '../util/random.js';
import type { ModelConfig } from './config.js';
import { applyFfnn2, ffnn2, ParamStore, type Ffnn2, type T2, type T3 } from './nn.js';
import { fusions, type Fusion } from './fusion/index.js';
import { personalizations, type Personalization } from './personalization/index.js';
import { weightings, type Weighting } from './multitask/index.js';
import { applyHeads, heads, type Heads } from './heads.js';
import { taskLosses } from './losses.js';
import type { UserBatch, UserTable } from './user-table.js';

export interface ModelDims {
  /** The modalities in input order (activity channels, then speech), with their input widths. */
  modalities: { name: string; dim: number }[];
  /** Number of tasks (items). */
  K: number;
  /** Number of training participants (rows of every per-user table). */
  users: number;
}

export class MoodModel {
  readonly ps: ParamStore;
  readonly encoders: Ffnn2[];
  readonly fusion: Fusion;
  readonly personalization: Personalization;
  readonly weighting: Weighting;
  readonly heads: Heads;

  constructor(readonly config: ModelConfig, readonly dims: ModelDims, seed: number) {
    const rng = new Rng(seed), d = config.width, M = dims.modalities.length, K = dims.K;
    this.ps = new ParamStore(rng);
    this.encoders = dims.modalities.map((m) => ffnn2(this.ps, `encoder.${m.name}`, m.dim, d, d));
    this.fusion = fusions[config.fusion.name]({ ps: this.ps, M, d, opts: config.fusion });
    this.personalization = personalizations[config.personalization.name]({
      ps: this.ps, rng: rng.fork(1), users: dims.users, M, d, fusedDim: this.fusion.outDim, heads: config.heads,
      opts: config.personalization,
    });
    this.weighting = weightings[config.multitask.name]({ ps: this.ps, K, opts: config.multitask });
    this.heads = heads(this.ps, d, K, this.weighting.towers);
  }

  /** inputs: one [B, dim] tensor per modality; mask [B, M]; known [B, 1]. Returns ŷ [B, K] in (0,1). */
  forward(inputs: T2[], mask: T2, ub: UserBatch, known: T2): T2 {
    const h = tf.stack(inputs.map((x, m) => applyFfnn2(this.encoders[m], x)), 1) as T3; // [B, M, d]
    const fused = this.fusion.apply(h, mask);
    const p = this.personalization.apply(fused, h, mask, ub, known);
    return applyHeads(this.heads, p);
  }

  /** Training loss: weighting of the per-task losses (labelled samples only) + fusion restraint. */
  loss(pred: T2, y: T2, labelMask: T2): { total: tf.Scalar; L: tf.Tensor1D } {
    const { L, valid } = taskLosses(this.config.multitask.taskLoss, y, pred, labelMask);
    let total = this.weighting.combine(L, valid);
    if (this.fusion.regularizer) total = tf.add(total, this.fusion.regularizer()) as tf.Scalar;
    return { total, L };
  }

  get tables(): UserTable[] { return this.personalization.tables; }
  variables(): tf.Variable[] { return [...this.ps.vars.values()]; }
  dispose(): void { this.ps.dispose(); }

  /** Learned weights worth reporting (modality weights, task weights, λ). */
  report(): Record<string, number[]> {
    return { ...this.fusion.report?.(), ...this.personalization.report?.(), taskWeights: this.weighting.weights() };
  }
}
