/**
 * The training loop (MM's procedure, SPEC §2): SGD with Nesterov momentum 0.9, lr 0.001,
 * weight decay 1e-4, batch 16, ≤ 100 epochs; lr × 0.9 when the development mean CCC has not
 * improved for 5 epochs; the checkpoint with the best development mean CCC is kept.
 * Deterministic from `train.seed` (initialisation, shuffling, dropouts; one wasm thread).
 * State after every epoch can be saved and resumed (see model-folder.ts).
 */
import { tf } from '../model/backend.js';
import type { Dataset, Split } from '../data/dataset.js';
import type { Config } from '../model/config.js';
import { MoodModel } from '../model/macro-micro.js';
import { fitNormalization, makeBatch, disposeBatch, prepare, resolveModalities, type BatchTensors, type Modality, type NormStats, type Prepared } from '../model/inputs.js';
import { UserBatch } from '../model/user-table.js';
import { newVariable } from '../model/nn.js';
import { predict } from '../model/predict.js';
import { exportWeights, importWeights, type WeightsManifest } from '../model/serialize.js';
import { ccc } from '../eval/metrics.js';
import { Rng } from '../util/random.js';
import { progress } from '../util/progress.js';

export interface EpochInfo { epoch: number; trainLoss: number; devMeanCCC: number; lr: number; seconds: number }

/** Everything needed to continue training after a kill. */
export interface TrainState {
  epoch: number; lr: number; bestDev: number; bestEpoch: number; sinceImprove: number;
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
export function trainStep(model: MoodModel, momentum: tf.Variable[], b: BatchTensors, h: StepHyper): { total: number; L: tf.Tensor } {
  const vars = model.variables();
  const ub = new UserBatch(b.user, model.tables, true);
  let L: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const pred = model.forward(b.inputs, b.mask, ub, b.known);
    const out = model.loss(pred, b.labels, b.labelMask);
    L = tf.keep(out.L);
    return out.total;
  }, [...vars, ...ub.rows.values()]);
  tf.tidy(() => {
    vars.forEach((w, j) => {
      const g = grads[w.name];
      if (!g) return;
      const gd = h.weightDecay ? tf.add(g, tf.mul(h.weightDecay, w)) : g;
      const v = tf.add(tf.mul(h.momentum, momentum[j]), gd);
      momentum[j].assign(v);
      w.assign(tf.sub(w, tf.mul(h.lr, h.nesterov ? tf.add(gd, tf.mul(h.momentum, v)) : v)));
    });
  });
  for (const [table, row] of ub.rows) {
    const g = grads[row.name];
    if (g) table.step(b.user, g.dataSync() as Float32Array, h.lr, h.momentum, h.nesterov, h.weightDecay);
  }
  const total = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]); ub.dispose();
  return { total, L: L! };
}

/** Momentum buffers for the shared variables. */
export function newMomentum(model: MoodModel): tf.Variable[] {
  return model.variables().map((v) => newVariable(new Float32Array(v.size), v.shape, false));
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
  const mods = resolveModalities(ds, config.model.modalities);
  const norm = fitNormalization(ds, train, config.train.activityTransform);
  const seen = new Set<number>(); for (const i of train) seen.add(ds.participant[i]);
  const participants = [...seen].sort((a, b) => a - b).map((p) => ds.participantIds[p]);
  const model = new MoodModel(config.model, { modalities: mods.map((m) => ({ name: m.name, dim: m.dim })), K: ds.items.length, users: participants.length }, config.train.seed);
  return { model, config, mods, norm, participants, items: ds.items };
}

export async function train(ds: Dataset, split: Split, opts: TrainOptions): Promise<TrainedModel> {
  const { config } = opts, tc = config.train;
  const base = initModel(ds, split.train, config);
  const { model } = base;
  const prep = prepare(ds, base.mods, base.norm, base.participants);
  const momentum = newMomentum(model);
  let lr = tc.lr, bestDev = -Infinity, bestEpoch = -1, sinceImprove = 0, start = 0;
  let best = exportWeights(model).data;
  const history: EpochInfo[] = [];
  if (opts.resume) {
    const r = opts.resume;
    importWeights(model, r.manifest, r.current, r.tableMomentum);
    let o = 0; momentum.forEach((m) => { tf.tidy(() => m.assign(tf.tensor(r.sharedMomentum.subarray(o, o + m.size), m.shape))); o += m.size; });
    model.weighting.load?.(r.weighting);
    ({ lr, bestDev, bestEpoch, sinceImprove } = r); start = r.epoch; best = r.best; history.push(...r.history);
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
      const { total, L } = trainStep(model, momentum, b, { lr, momentum: tc.momentum, nesterov: tc.nesterov, weightDecay: tc.weightDecay });
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
    const info: EpochInfo = { epoch: epoch + 1, trainLoss: totalSum / steps, devMeanCCC: dev, lr, seconds: (Date.now() - t0) / 1000 };
    history.push(info);
    bar?.update(epoch + 1, { dev: `${dev.toFixed(3)} (best ${bestDev.toFixed(3)} @${bestEpoch + 1})`, lr: lr.toPrecision(2) });
    if (opts.onEpoch) {
      await opts.onEpoch(info, () => {
        const cur = exportWeights(model, true);
        const sm = new Float32Array(momentum.reduce((a, m) => a + m.size, 0));
        let o = 0; for (const m of momentum) { sm.set(m.dataSync(), o); o += m.size; }
        return {
          epoch: epoch + 1, lr, bestDev, bestEpoch, sinceImprove, manifest: cur.manifest, current: cur.data,
          tableMomentum: cur.momentum!, best, sharedMomentum: sm, weighting: model.weighting.state?.() ?? null, history: [...history],
        };
      });
    }
    if (tc.earlyStop !== null && epoch - bestEpoch >= tc.earlyStop) break;
  }
  bar?.stop();
  tf.dispose(momentum);
  importWeights(model, exportWeights(model).manifest, best);
  return { ...base, history, bestEpoch: bestEpoch + 1, bestDev, task: opts.task };
}
