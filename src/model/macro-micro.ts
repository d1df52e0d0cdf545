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
import { UserTable, type UserBatch } from './user-table.js';

export interface ModelDims {
  /** The modalities in input order (activity channels, then speech), with their input widths. */
  modalities: { name: string; dim: number }[];
  /** Number of tasks (items). */
  K: number;
  /** Number of training participants (rows of every per-user table). */
  users: number;
}

/** Values a model is built with that come from the training data (ignored when weights are loaded). */
export interface ModelInit {
  /** Person-mean anchor: per user K logits (users × K) and the global K logits. */
  anchor?: { users: Float32Array; global: Float32Array };
}

/** The anchor's user table and the shared anchor for participants not seen in training. */
export interface Anchor { table: UserTable; global: tf.Variable }

export class MoodModel {
  readonly ps: ParamStore;
  readonly encoders: Ffnn2[];
  readonly fusion: Fusion;
  readonly personalization: Personalization;
  readonly weighting: Weighting;
  readonly heads: Heads;
  readonly anchor: Anchor | null;
  /** Set by the trainer during training steps: the Rng of the dropout masks (null: no dropout). */
  dropoutRng: Rng | null = null;

  constructor(readonly config: ModelConfig, readonly dims: ModelDims, seed: number, init: ModelInit = {}) {
    const rng = new Rng(seed), d = config.width, M = dims.modalities.length, K = dims.K;
    this.ps = new ParamStore(rng);
    this.encoders = dims.modalities.map((m) => ffnn2(this.ps, `encoder.${m.name}`, m.dim, d, d));
    this.fusion = fusions[config.fusion.name]({ ps: this.ps, M, d, opts: config.fusion });
    this.personalization = personalizations[config.personalization.name]({
      ps: this.ps, rng: rng.fork(1), users: dims.users, M, d, fusedDim: this.fusion.outDim, heads: config.heads,
      opts: config.personalization,
    });
    this.weighting = weightings[config.multitask.name]({ ps: this.ps, K, opts: config.multitask });
    const anchored = config.anchor === 'person-mean';
    this.heads = heads(this.ps, d, K, this.weighting.towers, 16, anchored);
    this.anchor = null;
    if (anchored) {
      const a = init.anchor;
      if (a && (a.users.length !== dims.users * K || a.global.length !== K)) throw new RangeError(`anchor init: expected ${dims.users} × ${K} user logits and ${K} global ones`);
      let u = 0;
      this.anchor = {
        table: new UserTable('user.anchor', [K], dims.users, () => (a ? a.users.slice(u * K, ++u * K) : new Float32Array(K)), rng.fork(2)),
        global: this.ps.add('anchor.global', [K], () => (a ? a.global.slice() : new Float32Array(K))),
      };
    }
  }

  /** inputs: one [B, dim] tensor per modality; mask [B, M]; known [B, 1]. Returns ŷ [B, K] in (0,1). */
  forward(inputs: T2[], mask: T2, ub: UserBatch, known: T2): T2 {
    const h = this.drop(tf.stack(inputs.map((x, m) => applyFfnn2(this.encoders[m], x)), 1)) as T3; // [B, M, d]
    const fused = this.fusion.apply(h, mask);
    const p = this.drop(this.personalization.apply(fused, h, mask, ub, known)) as T2;
    if (!this.anchor) return applyHeads(this.heads, p);
    // Known users: their own anchor; unknown (new participant, micro-dropout): the shared one.
    const offset = tf.add(tf.mul(ub.take(this.anchor.table), known), tf.mul(this.anchor.global, tf.sub(1, known)));
    return applyHeads(this.heads, p, offset);
  }

  /** Inverted dropout with masks from `dropoutRng` (identity outside training or at rate 0). */
  private drop(x: tf.Tensor): tf.Tensor {
    const rate = this.config.dropout, rng = this.dropoutRng;
    if (!rng || !(rate > 0)) return x;
    const m = new Float32Array(x.size), keep = 1 / (1 - rate);
    for (let i = 0; i < m.length; i++) m[i] = rng.bernoulli(rate) ? 0 : keep;
    return tf.mul(x, tf.tensor(m, x.shape));
  }

  /** Training loss: weighting of the per-task losses (labelled samples only) + fusion restraint. */
  loss(pred: T2, y: T2, labelMask: T2): { total: tf.Scalar; L: tf.Tensor1D } {
    const { L, valid } = taskLosses(this.config.multitask.taskLoss, y, pred, labelMask);
    let total = this.weighting.combine(L, valid);
    if (this.fusion.regularizer) total = tf.add(total, this.fusion.regularizer()) as tf.Scalar;
    return { total, L };
  }

  get tables(): UserTable[] { return this.anchor ? [...this.personalization.tables, this.anchor.table] : this.personalization.tables; }
  variables(): tf.Variable[] { return [...this.ps.vars.values()]; }
  dispose(): void { this.ps.dispose(); }

  /** Learned weights worth reporting (modality weights, task weights, λ). */
  report(): Record<string, number[]> {
    return { ...this.fusion.report?.(), ...this.personalization.report?.(), taskWeights: this.weighting.weights() };
  }
}
