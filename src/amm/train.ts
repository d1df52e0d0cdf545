/**
 * A straight training loop for the sequence classifiers: Adam on Σ_k w_k·CE_k + model terms
 * + λ·½‖W‖², mini-batches shuffled by the run's Rng, the checkpoint with the best development
 * score kept (main task's balanced accuracy by default) and used on the test set.
 */
import { tf } from '../model/backend.js';
import { Rng } from '../util/random.js';
import { balancedAccuracy } from '../eval/metrics.js';
import { TrainConfigSchema, type TrainConfig } from './config.js';
import { crossEntropy, disposeBatch, makeBatch, type SeqData } from './data.js';
import type { SeqModel } from './model.js';

export interface Predictions {
  rows: Int32Array;
  /** Per task of the model: actual (−1 = unlabelled) and predicted class, and probabilities [n × K]. */
  actual: Int32Array[];
  predicted: Int32Array[];
  prob: Float32Array[];
}

export interface EpochLog { epoch: number; loss: number; dev: number; seconds: number }

export interface TrainResult {
  bestEpoch: number;
  bestDev: number;
  history: EpochLog[];
  test: Predictions;
  dev: Predictions;
  seconds: number;
}

/**
 * Rows with at least one label among the model's tasks (unless `unlabelled`) and at least one of
 * its modalities present.
 */
export function usableRows(data: SeqData, model: Pick<SeqModel, 'modalities' | 'tasks'>, rows: ArrayLike<number>, unlabelled = false): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!unlabelled && !model.tasks.some((t) => data.tasks[t].y[r] >= 0)) continue;
    if (!model.modalities.some((m) => data.modalities[m].length[r] > 0)) continue;
    out.push(r);
  }
  return Int32Array.from(out);
}

export function predict(data: SeqData, model: SeqModel, rows: Int32Array, chunk = 256): Predictions {
  const K = model.tasks.length;
  const actual = model.tasks.map(() => new Int32Array(rows.length));
  const predicted = model.tasks.map(() => new Int32Array(rows.length));
  const prob = model.tasks.map((t) => new Float32Array(rows.length * data.tasks[t].classes.length));
  for (let s = 0; s < rows.length; s += chunk) {
    const part = rows.subarray(s, Math.min(rows.length, s + chunk));
    const batch = makeBatch(data, part, model.modalities, model.tasks);
    const probs = tf.tidy(() => model.forward(batch, false).logits.map((l) => tf.softmax(l)));
    for (let k = 0; k < K; k++) {
      const C = data.tasks[model.tasks[k]].classes.length;
      const p = probs[k].dataSync() as Float32Array;
      prob[k].set(p, s * C);
      for (let b = 0; b < part.length; b++) {
        actual[k][s + b] = batch.y[k][b];
        let best = 0;
        for (let c = 1; c < C; c++) if (p[b * C + c] > p[b * C + best]) best = c;
        predicted[k][s + b] = best;
      }
    }
    tf.dispose(probs);
    disposeBatch(batch);
  }
  return { rows, actual, predicted, prob };
}

/** Balanced accuracy of task k over its labelled rows. */
export function taskBalancedAccuracy(p: Predictions, k = 0): number {
  const a: number[] = [], q: number[] = [];
  for (let i = 0; i < p.rows.length; i++) if (p.actual[k][i] >= 0) { a.push(p.actual[k][i]); q.push(p.predicted[k][i]); }
  return a.length ? balancedAccuracy(a, q) : NaN;
}

export async function trainSeqModel(
  data: SeqData, model: SeqModel, config: Partial<TrainConfig> = {},
  onEpoch?: (log: EpochLog) => void,
  /** Score the test set on these rows (default: the model's usable test rows). */
  testRows?: Int32Array,
): Promise<TrainResult> {
  const cfg = TrainConfigSchema.parse(config);
  const rng = new Rng(cfg.seed ^ 0x5eed);
  const train = Array.from(usableRows(data, model, data.split.train, cfg.unlabelled));
  const dev = usableRows(data, model, data.split.dev);
  const test = testRows ?? usableRows(data, model, data.split.test);
  if (train.length === 0) throw new Error(`${model.name}: no usable training rows`);
  // Inverse-frequency class weights per task from the training rows (cfg.balance).
  const classWeights = model.tasks.map((ti) => {
    if (!cfg.balance) return undefined;
    const K = data.tasks[ti].classes.length;
    const count = new Float64Array(K);
    let n = 0;
    for (const r of train) { const y = data.tasks[ti].y[r]; if (y >= 0) { count[y]++; n++; } }
    return tf.tensor1d(Array.from(count, (c) => (c > 0 ? n / (K * c) : 0)));
  });
  const optimizer = tf.train.adam(cfg.lr);
  const vars = model.store.list();
  const history: EpochLog[] = [];
  let bestDev = -Infinity, bestEpoch = -1, since = 0;
  let best: tf.Tensor[] | null = null;
  const t0 = performance.now();

  const devScore = (): number => {
    if (dev.length === 0) return -history.length; // no development set: keep the last epoch
    if (cfg.select === 'loss') return -meanLoss(dev);
    return taskBalancedAccuracy(predict(data, model, dev));
  };
  const lossOf = (batch: ReturnType<typeof makeBatch>, training: boolean): tf.Scalar => {
    const out = model.forward(batch, training);
    let loss = tf.scalar(0) as tf.Scalar;
    out.logits.forEach((l, k) => { loss = loss.add(crossEntropy(l, batch.onehot[k], classWeights[k]).mul(model.taskWeights[k])) as tf.Scalar; });
    for (const v of Object.values(out.extra ?? {})) loss = loss.add(v) as tf.Scalar;
    if (training && cfg.l2 > 0) loss = loss.add(model.store.l2().mul(cfg.l2)) as tf.Scalar;
    return loss;
  };
  const meanLoss = (rows: Int32Array): number => {
    let s = 0;
    for (let i = 0; i < rows.length; i += 256) {
      const part = rows.subarray(i, Math.min(rows.length, i + 256));
      const batch = makeBatch(data, part, model.modalities, model.tasks);
      s += tf.tidy(() => lossOf(batch, false).dataSync()[0]) * part.length;
      disposeBatch(batch);
    }
    return s / Math.max(1, rows.length);
  };

  for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
    const e0 = performance.now();
    rng.shuffle(train);
    let sum = 0, nb = 0;
    for (let s = 0; s < train.length; s += cfg.batch) {
      const rows = train.slice(s, s + cfg.batch);
      if (rows.length < 2 && nb > 0) continue; // a batch of one adds noise and breaks InfoNCE
      const batch = makeBatch(data, rows, model.modalities, model.tasks);
      const loss = optimizer.minimize(() => lossOf(batch, true), true, vars);
      sum += loss!.dataSync()[0]; nb++;
      loss!.dispose();
      disposeBatch(batch);
    }
    const score = devScore();
    history.push({ epoch, loss: sum / Math.max(1, nb), dev: score, seconds: (performance.now() - e0) / 1000 });
    onEpoch?.(history[history.length - 1]);
    if (score > bestDev) {
      bestDev = score; bestEpoch = epoch; since = 0;
      if (best) tf.dispose(best);
      best = vars.map((v) => v.clone());
    } else if (cfg.patience > 0 && ++since >= cfg.patience) break;
    await new Promise((r) => setTimeout(r, 0)); // let progress output through
  }
  if (best) { vars.forEach((v, i) => v.assign(best![i])); tf.dispose(best); }
  optimizer.dispose();
  tf.dispose(classWeights.filter((w): w is tf.Tensor1D => w !== undefined));
  return {
    bestEpoch, bestDev, history,
    dev: predict(data, model, dev),
    test: predict(data, model, test),
    seconds: (performance.now() - t0) / 1000,
  };
}
