/**
 * The input of the sequence classifiers (AMM, MIMML): per instance, one variable-length
 * sequence of vectors per modality (plus optional side-knowledge vectors) and one class label
 * per task. Column-wise typed arrays like `Dataset`; missing values are explicit
 * (length 0 = modality absent, label −1 = not answered). Browser-safe.
 */
import { tf } from '../model/backend.js';
import type { Split } from '../data/dataset.js';

export interface SeqModality {
  name: string;
  /** Padded length T. */
  steps: number;
  /** Features per step F. */
  features: number;
  featureNames?: string[];
  /** n × T × F values, standardised, 0 at padded steps. */
  x: Float32Array;
  /** Valid steps per instance (right-padded); 0 = the modality is missing for that instance. */
  length: Int32Array;
  /** Optional side knowledge (AMM §III-C: gender to text, colour histogram to image): n × S. */
  side?: { names: string[]; x: Float32Array };
}

export interface SeqTask {
  name: string;
  classes: string[];
  /** Per instance: class index, or −1 when unlabelled. */
  y: Int32Array;
}

export interface SeqData {
  n: number;
  participantIds: string[];
  participant: Int32Array;
  modalities: SeqModality[];
  /** tasks[0] is the main task (depression in AMM). */
  tasks: SeqTask[];
  split: Split;
  /** Where the data came from and any substitutions made (e.g. a fallback speech sequence). */
  notes: string[];
}

/** Tensors of one mini-batch for a chosen subset of modalities and tasks. */
export interface SeqBatch {
  size: number;
  x: tf.Tensor3D[];
  mask: tf.Tensor2D[];
  side: Array<tf.Tensor2D | null>;
  /** Per modality: [B, 1], 1 when the instance has that modality. */
  present: tf.Tensor2D[];
  /** Per task: class indices (−1 = unlabelled) and one-hot [B, K] (all 0 when unlabelled). */
  y: Int32Array[];
  onehot: tf.Tensor2D[];
}

/** Copy the rows `rows` of the chosen modalities and tasks into tensors (no gather in the graph). */
export function makeBatch(data: SeqData, rows: ArrayLike<number>, modalities: number[], tasks: number[]): SeqBatch {
  const B = rows.length;
  const x: tf.Tensor3D[] = [], mask: tf.Tensor2D[] = [], side: Array<tf.Tensor2D | null> = [], present: tf.Tensor2D[] = [];
  for (const mi of modalities) {
    const m = data.modalities[mi];
    const T = m.steps, F = m.features;
    const xb = new Float32Array(B * T * F), mb = new Float32Array(B * T), pb = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      const r = rows[b];
      xb.set(m.x.subarray(r * T * F, (r + 1) * T * F), b * T * F);
      const L = Math.min(T, m.length[r]);
      for (let t = 0; t < L; t++) mb[b * T + t] = 1;
      pb[b] = L > 0 ? 1 : 0;
    }
    x.push(tf.tensor3d(xb, [B, T, F]));
    mask.push(tf.tensor2d(mb, [B, T]));
    present.push(tf.tensor2d(pb, [B, 1]));
    if (m.side) {
      const S = m.side.names.length;
      const sb = new Float32Array(B * S);
      for (let b = 0; b < B; b++) sb.set(m.side.x.subarray(rows[b] * S, (rows[b] + 1) * S), b * S);
      side.push(tf.tensor2d(sb, [B, S]));
    } else side.push(null);
  }
  const y: Int32Array[] = [], onehot: tf.Tensor2D[] = [];
  for (const ti of tasks) {
    const task = data.tasks[ti];
    const K = task.classes.length;
    const yb = new Int32Array(B), oh = new Float32Array(B * K);
    for (let b = 0; b < B; b++) { yb[b] = task.y[rows[b]]; if (yb[b] >= 0) oh[b * K + yb[b]] = 1; }
    y.push(yb);
    onehot.push(tf.tensor2d(oh, [B, K]));
  }
  return { size: B, x, mask, side, present, y, onehot };
}

export function disposeBatch(b: SeqBatch): void {
  tf.dispose([...b.x, ...b.mask, ...b.present, ...b.onehot, ...b.side.filter((s): s is tf.Tensor2D => s !== null)]);
}

/**
 * Masked softmax cross-entropy, mean over the labelled rows: −(1/n_lab) Σ_b Σ_k y_bk log p_bk.
 * Unlabelled rows have an all-zero one-hot and so contribute nothing.
 */
export function crossEntropy(logits: tf.Tensor2D, onehot: tf.Tensor2D, classWeights?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    // With class weights w: −Σ_b w_{y_b} log p_{b,y_b} / Σ_b w_{y_b}.
    const target = classWeights ? onehot.mul(classWeights) : onehot;
    const nll = target.mul(tf.logSoftmax(logits)).sum().neg();
    return nll.div(target.sum().maximum(1e-6)) as tf.Scalar;
  });
}

/** Index of a modality or task by name, with a clear error. */
export function indexByName(list: Array<{ name: string }>, name: string, what: string): number {
  const i = list.findIndex((m) => m.name === name);
  if (i < 0) throw new Error(`unknown ${what} "${name}" (have: ${list.map((m) => m.name).join(', ')})`);
  return i;
}
