/**
 * The training loop (MM's procedure, SPEC §2): SGD with Nesterov momentum 0.9, lr 0.001,
 * weight decay 1e-4, batch 16, ≤ 100 epochs; lr × 0.9 when the development mean CCC has not
 * improved for 5 epochs; the checkpoint with the best development mean CCC is kept. Beyond the
 * paper, training stops early once the development mean CCC has not gained more than
 * `earlyStopMinDelta` for `earlyStop` epochs (config.ts; null runs every epoch).
 * Deterministic from `train.seed` (initialisation, shuffling, dropouts; one wasm thread).
 * State after every epoch can be saved and resumed (see model-folder.ts).
 */
import { tf } from '../model/backend.js';
import type { Dataset, Split } from '../data/dataset.js';
import type { Config } from '../model/config.js';
import { MoodModel } from '../model/macro-micro.js';
import { fitNormalization, makeBatch, disposeBatch, prepare, resolveModalities, type BatchTensors, type Modality, type NormStats, type Prepared } from '../model/inputs.js';
import { UserBatch, type UserTable } from '../model/user-table.js';
import { predict } from '../model/predict.js';
import { exportWeights, importWeights } from '../model/serialize.js';
import type { WeightsManifest } from '../model/folder-node.js';
import { ccc } from '../eval/metrics.js';
import { Rng } from '../util/random.js';
import { progress } from '../util/progress.js';

export interface EpochInfo { epoch: number; trainLoss: number; devMeanCCC: number; lr: number; seconds: number }

/** Everything needed to continue training after a kill. */
export interface TrainState {
  epoch: number; lr: number; bestDev: number; bestEpoch: number; sinceImprove: number;
  /** Early stopping's reference: the last epoch (0-based) that beat the one before by more than earlyStopMinDelta, and its dev. */
  stopRefEpoch?: number; stopRefDev?: number;
  manifest: WeightsManifest; current: Float32Array; tableMomentum: Float32Array; best: Float32Array;
  sharedMomentum: Float32Array; weighting: unknown; history: EpochInfo[];
}

export interface TrainOptions {
  config: Config;
  /** Restrict training to one item (single-task). */
  task?: number;
  resume?: TrainState;
  /** Called after each epoch; `state()` builds the resumable state (costly: call it only when saving). */
  onEpoch?: (info: EpochInfo, state: () => TrainState) => void | Promise<void>;
  label?: string;
  quiet?: boolean;
}

export interface TrainedModel {
  model: MoodModel; config: Config; mods: Modality[]; norm: NormStats; participants: string[];
  items: Dataset['items']; history: EpochInfo[]; bestEpoch: number; bestDev: number; task?: number;
}

export interface StepHyper { lr: number; momentum: number; nesterov: boolean; weightDecay: number }

/**
 * One optimisation step on a batch: forward, backward (shared variables and the batch's per-user
 * rows in one pass), SGD with Nesterov momentum and weight decay on the shared variables
 * (PyTorch semantics: g ← g + wd·w; v ← μv + g; w ← w − lr·(g + μv)), and the lazy sparse update
 * of the users present. Returns the loss and the per-task losses L [K] (caller disposes L).
 */
export function trainStep(model: MoodModel, momentum: Float32Array[], b: BatchTensors, h: StepHyper, timing?: StepTiming): { total: number; L: tf.Tensor } {
  let t = timing ? performance.now() : 0;
  const lap = (k: keyof StepTiming) => { if (timing) { const n = performance.now(); timing[k] += n - t; t = n; } };
  const vars = model.variables();
  const ub = new UserBatch(b.user, model.tables, true);
  lap('rows');
  let L: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const pred = model.forward(b.inputs, b.mask, ub, b.known);
    const out = model.loss(pred, b.labels, b.labelMask);
    L = tf.keep(out.L);
    lap('forward');
    return out.total;
  }, [...vars, ...ub.rows.values()]);
  lap('backward');
  sharedSgdStep(vars, grads, momentum, h);
  lap('shared');
  const order = usersInOrder(b.user);
  for (const [table, row] of ub.rows) {
    const g = grads[row.name];
    if (g) tableStep(table, order, values(g), h);
  }
  lap('tables');
  const total = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]); ub.dispose();
  lap('rest');
  return { total, L: L! };
}

/** Milliseconds spent in each phase of trainStep, summed over calls (for bench/train/profile.ts). */
export interface StepTiming { rows: number; forward: number; backward: number; shared: number; tables: number; rest: number }

/**
 * A float32 tensor's values for reading right away: on the wasm backend a view of its memory (no
 * copy; valid until the next tensor allocation), elsewhere dataSync().
 */
function values(t: tf.Tensor): Float32Array {
  const be = tf.backend() as unknown as { typedArrayFromHeap?: (i: tf.TensorInfo) => Float32Array };
  if (t.dtype === 'float32' && typeof be.typedArrayFromHeap === 'function' && tf.getBackend() === 'wasm') return be.typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/** The SGD step of the shared variables from their gradients (by variable name). */
export function sharedSgdStep(vars: tf.Variable[], grads: tf.NamedTensorMap, momentum: Float32Array[], h: StepHyper): void {
  vars.forEach((w, j) => {
    const g = grads[w.name];
    if (g) sgdUpdate(w, values(g), momentum[j], h);
  });
}

/** The batch's known users in order of first appearance, with the batch rows of each. */
interface UserOrder { users: number[]; start: Int32Array; rows: Int32Array }
function usersInOrder(user: Int32Array): UserOrder {
  const first = new Map<number, number>(), users: number[] = [], count: number[] = [];
  for (let b = 0; b < user.length; b++) {
    const u = user[b];
    if (u < 0) continue;
    const k = first.get(u);
    if (k === undefined) { first.set(u, users.length); users.push(u); count.push(1); } else count[k]++;
  }
  const start = new Int32Array(users.length + 1);
  for (let k = 0; k < users.length; k++) start[k + 1] = start[k] + count[k];
  const rows = new Int32Array(start[users.length]), fill = start.slice(0, users.length);
  for (let b = 0; b < user.length; b++) { const u = user[b]; if (u >= 0) rows[fill[first.get(u)!]++] = b; }
  return { users, start, rows };
}

/**
 * UserTable.step (lazy SGD on the users present) without its per-user allocations: the same
 * arithmetic in the same order (per-user float32 sum of the batch rows, then the update in double
 * precision stored to float32), so the tables come out bit-identical.
 */
function tableStep(t: UserTable, o: UserOrder, grad: Float32Array, h: StepHyper): void {
  const S = t.size;
  let acc: Float32Array | null = null;
  for (let k = 0; k < o.users.length; k++) {
    const u = o.users[k];
    if (u >= t.users) continue;
    const r0 = o.start[k], r1 = o.start[k + 1];
    if (r1 - r0 === 1) { lazySgdRow(t, u, grad, o.rows[r0] * S, h); continue; } // most users: one row, no copy
    acc ??= new Float32Array(S); acc.fill(0);
    for (let r = r0; r < r1; r++) {
      const off = o.rows[r] * S;
      for (let j = 0; j < S; j++) acc[j] += grad[off + j];
    }
    lazySgdRow(t, u, acc, 0, h);
  }
}

/** w ← w − lr·(g + μv) (or lr·v) for user u's row; g = src[off..] + wd·w (0 + src: as the float32 sum did). */
function lazySgdRow(t: UserTable, u: number, src: Float32Array, off: number, h: StepHyper): void {
  const S = t.size, w = t.data, v = t.momentum, base = u * S;
  const { lr, momentum: mu, nesterov, weightDecay: wd } = h;
  for (let j = 0; j < S; j++) {
    const gj = (0 + src[off + j]) + wd * w[base + j];
    const vj = mu * v[base + j] + gj;
    v[base + j] = vj;
    w[base + j] -= lr * (nesterov ? gj + mu * vj : vj);
  }
}

const f32 = Math.fround;

/**
 * SGD with momentum and weight decay on one shared variable, in JS over its values: one read and
 * one write per variable instead of ~6 kernels. Every intermediate is rounded to float32 exactly as
 * the former element-wise tf ops did (gd = g + wd·w; v = μv + gd; w −= lr·(gd + μv) or lr·v), so
 * the result is bit-identical to them.
 */
function sgdUpdate(w: tf.Variable, g: Float32Array, v: Float32Array, h: StepHyper): void {
  const x = values(w), out = new Float32Array(x.length);
  const wd = f32(h.weightDecay), mu = f32(h.momentum), lr = f32(h.lr);
  for (let i = 0; i < x.length; i++) {
    const gd = wd ? f32(g[i] + f32(wd * x[i])) : g[i];
    const vi = f32(f32(mu * v[i]) + gd);
    v[i] = vi;
    out[i] = f32(x[i] - f32(lr * (h.nesterov ? f32(gd + f32(mu * vi)) : vi)));
  }
  const t = tf.tensor(out, w.shape);
  w.assign(t); t.dispose();
}

/** Momentum buffers for the shared variables (plain arrays, one per variable, in variables() order). */
export function newMomentum(model: MoodModel): Float32Array[] {
  return model.variables().map((v) => new Float32Array(v.size));
}

/** Mean over items of the per-item CCC (finite items only). */
export function meanItemCCC(p: Prepared, idx: Int32Array, pred: Float32Array, task?: number): number {
  const K = p.K; let s = 0, n = 0;
  for (let k = 0; k < K; k++) {
    if (task !== undefined && k !== task) continue;
    const a = new Float64Array(idx.length), q = new Float64Array(idx.length);
    for (let r = 0; r < idx.length; r++) {
      const i = idx[r];
      a[r] = p.labelMask[i * K + k] ? p.labels[i * K + k] : NaN; q[r] = pred[r * K + k];
    }
    const c = ccc(a, q);
    if (Number.isFinite(c)) { s += c; n++; }
  }
  return n ? s / n : NaN;
}

/** Build an untrained model (and its input preparation) for a dataset and its training split. */
export function initModel(ds: Dataset, train: Int32Array, config: Config): Omit<TrainedModel, 'history' | 'bestEpoch' | 'bestDev'> {
  const mods = resolveModalities(ds, config.model.modalities, config.model.history);
  const norm = fitNormalization(ds, train, config.train.activityTransform, mods.some((m) => m.name === 'history'));
  const seen = new Set<number>(); for (const i of train) seen.add(ds.participant[i]);
  const participants = [...seen].sort((a, b) => a - b).map((p) => ds.participantIds[p]);
  const init = config.model.anchor === 'person-mean' ? { anchor: anchorInit(ds, train, participants) } : {};
  const model = new MoodModel(config.model, { modalities: mods.map((m) => ({ name: m.name, dim: m.dim })), K: ds.items.length, users: participants.length }, config.train.seed, init);
  return { model, config, mods, norm, participants, items: ds.items };
}

/**
 * The person-mean anchor's starting logits: per training participant (in `participants` order)
 * and item, logit of the participant's training mean (the global training mean where they never
 * answered the item), and the global training mean's logits; means clamped to [0.02, 0.98].
 */
export function anchorInit(ds: Dataset, train: ArrayLike<number>, participants: string[]): { users: Float32Array; global: Float32Array } {
  const K = ds.items.length, U = participants.length;
  const slot = new Map(participants.map((p, i) => [p, i]));
  const s = new Float64Array((U + 1) * K), c = new Float64Array((U + 1) * K); // row U: global
  for (let r = 0; r < train.length; r++) {
    const i = train[r], u = slot.get(ds.participantIds[ds.participant[i]]);
    for (let k = 0; k < K; k++) {
      const y = ds.labels[i * K + k];
      if (Number.isNaN(y)) continue;
      if (u !== undefined) { s[u * K + k] += y; c[u * K + k]++; }
      s[U * K + k] += y; c[U * K + k]++;
    }
  }
  const logit = (m: number) => { const q = Math.min(0.98, Math.max(0.02, m)); return Math.log(q / (1 - q)); };
  const global = Float32Array.from({ length: K }, (_, k) => logit(c[U * K + k] ? s[U * K + k] / c[U * K + k] : 0.5));
  const users = new Float32Array(U * K);
  for (let u = 0; u < U; u++) for (let k = 0; k < K; k++) users[u * K + k] = c[u * K + k] ? logit(s[u * K + k] / c[u * K + k]) : global[k];
  return { users, global };
}

export async function train(ds: Dataset, split: Split, opts: TrainOptions): Promise<TrainedModel> {
  const { config } = opts, tc = config.train;
  const base = initModel(ds, split.train, config);
  const { model } = base;
  const prep = prepare(ds, base.mods, base.norm, base.participants);
  const momentum = newMomentum(model);
  let lr = tc.lr, bestDev = -Infinity, bestEpoch = -1, sinceImprove = 0, start = 0;
  let stopRefDev = -Infinity, stopRefEpoch = -1;
  let best = exportWeights(model).data;
  const history: EpochInfo[] = [];
  if (opts.resume) {
    const r = opts.resume;
    importWeights(model, r.manifest, r.current, r.tableMomentum);
    let o = 0; momentum.forEach((m) => { m.set(r.sharedMomentum.subarray(o, o + m.length)); o += m.length; });
    model.weighting.load?.(r.weighting);
    ({ lr, bestDev, bestEpoch, sinceImprove } = r); start = r.epoch; best = r.best; history.push(...r.history);
    stopRefDev = r.stopRefDev ?? bestDev; stopRefEpoch = r.stopRefEpoch ?? bestEpoch;
  }
  const microDropout = model.personalization.macroPath ? config.model.personalization.microDropout : 0;
  const steps = Math.ceil(split.train.length / tc.batchSize);
  const bar = opts.quiet ? null : progress(opts.label ?? 'train', tc.epochs, ' | dev mean CCC {dev} | lr {lr}');
  bar?.update(start, { dev: Number.isFinite(bestDev) ? bestDev.toFixed(3) : '-', lr: lr.toPrecision(2) });

  for (let epoch = start; epoch < tc.epochs; epoch++) {
    const t0 = Date.now();
    const rng = new Rng((tc.seed * 1000003 + epoch * 7919) >>> 0);
    const order = rng.shuffle(Array.from(split.train));
    let lossSum = tf.zeros([prep.K]); let totalSum = 0;
    for (let s = 0; s < steps; s++) {
      const idx = order.slice(s * tc.batchSize, (s + 1) * tc.batchSize);
      const b = makeBatch(prep, idx, { rng, modalityDropout: tc.modalityDropout, microDropout, task: opts.task });
      model.dropoutRng = rng;
      const { total, L } = trainStep(model, momentum, b, { lr, momentum: tc.momentum, nesterov: tc.nesterov, weightDecay: tc.weightDecay });
      model.dropoutRng = null;
      const nextSum = tf.add(lossSum, L); lossSum.dispose(); lossSum = nextSum;
      totalSum += total;
      L.dispose(); disposeBatch(b);
    }
    await new Promise((r) => setImmediate(r)); // let the event loop breathe (progress, signals, RPC)
    const meanL = Array.from(lossSum.dataSync(), (x) => x / steps); lossSum.dispose();
    model.weighting.endEpoch?.(meanL);

    const dev = meanItemCCC(prep, split.dev, predict(model, prep, split.dev), opts.task);
    if (dev > bestDev || bestEpoch < 0) { bestDev = dev; bestEpoch = epoch; sinceImprove = 0; best = exportWeights(model).data; }
    else if (++sinceImprove % tc.lrPatience === 0) lr *= tc.lrDecay;
    if (dev > stopRefDev + tc.earlyStopMinDelta || stopRefEpoch < 0) { stopRefDev = dev; stopRefEpoch = epoch; }
    const info: EpochInfo = { epoch: epoch + 1, trainLoss: totalSum / steps, devMeanCCC: dev, lr, seconds: (Date.now() - t0) / 1000 };
    history.push(info);
    bar?.update(epoch + 1, { dev: `${dev.toFixed(3)} (best ${bestDev.toFixed(3)} @${bestEpoch + 1})`, lr: lr.toPrecision(2) });
    if (opts.onEpoch) {
      await opts.onEpoch(info, () => {
        const cur = exportWeights(model, true);
        const sm = new Float32Array(momentum.reduce((a, m) => a + m.length, 0));
        let o = 0; for (const m of momentum) { sm.set(m, o); o += m.length; }
        return {
          epoch: epoch + 1, lr, bestDev, bestEpoch, sinceImprove, stopRefEpoch, stopRefDev, manifest: cur.manifest, current: cur.data,
          tableMomentum: cur.momentum!, best, sharedMomentum: sm, weighting: model.weighting.state?.() ?? null, history: [...history],
        };
      });
    }
    if (tc.earlyStop !== null && epoch - stopRefEpoch >= tc.earlyStop) break;
  }
  bar?.stop();
  importWeights(model, exportWeights(model).manifest, best);
  return { ...base, history, bestEpoch: bestEpoch + 1, bestDev, task: opts.task };
}
