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
import { applyFfnn2, ffnn2, ParamStore, PlainParams, plainApplyFfnn2, plainFfnn2, type Ffnn2, type PlainFfnn2, type T2, type T3 } from './nn.js';
import { fusions, type Fusion, type PlainFusion } from './fusion/index.js';
import { personalizations, type Personalization, type PlainPersonalization } from './personalization/index.js';
import { weightings, type Weighting } from './multitask/index.js';
import { applyHeads, heads, plainHeads, type Heads } from './heads.js';
import { taskLosses } from './losses.js';
import { UserTable, type UserBatch } from './user-table.js';
import { historyOf, instanceMask, modalityValues, type Modality, type NormStats } from './inputs.js';
import type { Dataset } from '../data/dataset.js';
import type { HistoryFeatures } from '../data/history.js';
import type { MemberFiles } from './folder-node.js';

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
    this.fusion = fusions[config.fusion.name].tfjs({ ps: this.ps, M, d, opts: config.fusion });
    this.personalization = personalizations[config.personalization.name].tfjs({
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

/** A participant's layer fitted after training: their row of every user table, and their activity standardisation. */
export interface PersonalLayer { rows: Map<string, Float32Array>; activityNorm?: [number, number][] }

/**
 * The same network on one instance's plain arrays, with the weights of a model folder member
 * (readModelFolder): the server's inference, with no tfjs op. Each part is the plain twin of the
 * part above (fusion/, personalization/, macro.ts, heads.ts), so it gives MoodModel.forward's
 * output to float rounding (test/model/plain-forward.test.ts).
 */
export class PlainMoodModel {
  readonly config: ModelConfig;
  readonly mods: Modality[];
  readonly K: number;
  /** Single-task member: only output `task` is used. */
  readonly task?: number;
  readonly norm: NormStats;
  private readonly w: PlainParams;
  private readonly tables = new Map<string, { size: number; users: number; data: Float32Array }>();
  private readonly slots: Map<string, number>;
  private readonly encoders: PlainFfnn2[];
  private readonly fusion: PlainFusion;
  private readonly personalization: PlainPersonalization;
  private readonly heads: (p: Float32Array, offset: Float32Array | null) => Float32Array;
  private readonly meanRows = new Map<string, Float32Array>();
  /** Trained users' rows as stable views (so their transposed copies are cached). */
  private readonly slotRows = new Map<string, Float32Array>();
  private readonly personalNorm = new WeakMap<PersonalLayer, NormStats>();

  constructor(m: MemberFiles) {
    const c = m.meta.config.model, d = c.width, M = m.mods.length, K = m.meta.items.length;
    this.config = c; this.mods = m.mods; this.K = K; this.task = m.meta.task; this.norm = m.norm;
    const vars = new Map<string, Float32Array>();
    for (const v of m.manifest.variables) vars.set(v.name, m.data.subarray(v.offset, v.offset + v.shape.reduce((a, b) => a * b, 1)));
    for (const t of m.manifest.tables) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      this.tables.set(t.name, { size, users: t.users, data: m.data.subarray(t.offset, t.offset + size * t.users) });
    }
    this.slots = new Map(m.participants.map((p, i) => [p, i]));
    const w = this.w = new PlainParams(vars);
    this.encoders = m.mods.map((x) => plainFfnn2(w, `encoder.${x.name}`, x.dim, d, d));
    this.fusion = fusions[c.fusion.name].plain({ w, M, d, opts: c.fusion });
    // The fused width (the fusion's outDim): the input width of the macro space's first layer.
    const fusedDim = w.get(w.has('macro.emotion.1.w') ? 'macro.emotion.1.w' : 'macro.project.w').length / d;
    this.personalization = personalizations[c.personalization.name].plain({ w, M, d, fusedDim, heads: c.heads, opts: c.personalization });
    this.heads = plainHeads(w, d, K);
  }

  /** Is this participant one the network was trained on? */
  trained(participantId: string): boolean { return this.slots.has(participantId); }

  /**
   * ŷ [K] on the [0,1] label scale for instance i of `ds` (its participant's trained layers, their
   * `personal` layer fitted since, or — neither — the path for a participant not seen in training).
   * `hist`: the dataset's history features, when the caller has them already.
   */
  forward(ds: Dataset, i: number, personal?: PersonalLayer, hist: HistoryFeatures | undefined = historyOf(ds, this.mods)): Float32Array {
    const pid = ds.participantIds[ds.participant[i]], d = this.config.width;
    const known = personal !== undefined || this.slots.has(pid);
    const vals = modalityValues(ds, [i], this.mods, this.normFor(pid, personal), hist);
    const mask = instanceMask(ds, i, this.mods, hist, new Float32Array(this.mods.length));
    // A masked modality's vector never reaches the output (weight 0, attention 0, −10⁴ in max): its encoder is skipped.
    const h = this.mods.map((_, j) => (mask[j] === 0 ? new Float32Array(d) : plainApplyFfnn2(this.encoders[j], vals[j])));
    const user = (table: string) => this.row(table, pid, personal);
    const p = this.personalization(this.fusion(h, mask), h, mask, user, known);
    // Heads residual to the person-mean anchor when the model has one: own row, or the shared one.
    const offset = this.config.anchor === 'person-mean' ? (known ? user('user.anchor') : this.w.get('anchor.global')) : null;
    return this.heads(p, offset);
  }

  private normFor(pid: string, personal: PersonalLayer | undefined): NormStats {
    if (!personal?.activityNorm) return this.norm;
    let st = this.personalNorm.get(personal);
    if (!st) this.personalNorm.set(personal, st = { ...this.norm, activity: { ...this.norm.activity, [pid]: personal.activityNorm } });
    return st;
  }

  /** The participant's row of a user table: their personal layer, their trained slot, or the mean of the trained users. */
  private row(table: string, pid: string, personal: PersonalLayer | undefined): Float32Array {
    const t = this.tables.get(table);
    if (!t) throw new Error(`model weights have no user table ${table}`);
    const own = personal?.rows.get(table);
    if (own) return own;
    const slot = this.slots.get(pid);
    if (slot !== undefined && slot < t.users) {
      const key = `${table}#${slot}`;
      let r = this.slotRows.get(key);
      if (!r) { r = t.data.subarray(slot * t.size, (slot + 1) * t.size); this.slotRows.set(key, r); }
      return r;
    }
    let m = this.meanRows.get(table);
    if (!m) {
      m = new Float32Array(t.size);
      for (let u = 0; u < t.users; u++) for (let j = 0; j < t.size; j++) m[j] += t.data[u * t.size + j];
      for (let j = 0; j < t.size; j++) m[j] /= Math.max(1, t.users);
      this.meanRows.set(table, m);
    }
    return m;
  }
}
