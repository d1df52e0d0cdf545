/**
 * From Dataset instances to model inputs: the modality list, the normalisation (statistics from
 * the training instances only) and batches as tensors. Browser-safe, JSON-serialisable stats.
 *
 * Activity (MM "standardise per participant"): x ← log1p(x) (counts are ≥ 0 and heavy-tailed;
 * negative values are erroneous → missing), then z-scored per participant and channel with the
 * participant's training mean/SD; a participant without training data uses the pooled stats.
 * Speech features: z-scored per feature with the training mean/SD. Missing values → 0 after
 * standardisation; a whole missing modality is masked out by Dataset.modalityMask.
 */
import { tf } from './backend.js';
import type { Dataset } from '../data/dataset.js';
import type { T2 } from './nn.js';
import { UserBatch, type UserTable } from './user-table.js';
import type { Rng } from '../util/random.js';
import { historyFeatureNames, historyFeatures, type HistoryFeatures } from '../data/history.js';

export interface Modality { name: string; /** 'activity' channel index, −1 for speech, −2 for history. */ channel: number; dim: number }

/** Channel code of the history modality (the participant's earlier-answered reports, data/history.ts). */
export const HISTORY_CHANNEL = -2;

/**
 * Modalities used: the config's list, or every activity channel plus speech when it has features;
 * with `history`, the history modality is appended (also when the list names "history").
 */
export function resolveModalities(ds: Pick<Dataset, 'channels' | 'windowEpochs' | 'speechFeatures' | 'items'>, wanted?: string[], history = false): Modality[] {
  const hist: Modality = { name: 'history', channel: HISTORY_CHANNEL, dim: historyFeatureNames(ds.items).length };
  const all: Modality[] = ds.channels.map((c, i) => ({ name: c, channel: i, dim: ds.windowEpochs }));
  if (ds.speechFeatures.length > 0) all.push({ name: 'speech', channel: -1, dim: ds.speechFeatures.length });
  if (!wanted) return history ? [...all, hist] : all;
  all.push(hist);
  const out = wanted.map((w) => {
    const m = all.find((a) => a.name === w);
    if (!m) throw new Error(`modality "${w}" is not in this study (has: ${all.map((a) => a.name).join(', ')})`);
    return m;
  });
  return history && !wanted.includes('history') ? [...out, hist] : out;
}

export interface NormStats {
  activityTransform: 'log1p' | 'none';
  /** participant id → per channel [mean, sd]. */
  activity: Record<string, [number, number][]>;
  activityPooled: [number, number][];
  speech: [number, number][];
  /** History features [mean, sd] from the training instances (models with the history modality). */
  history?: [number, number][];
}

function meanSd(sum: number, sq: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const m = sum / n, v = Math.max(sq / n - m * m, 0);
  return [m, Math.sqrt(v) > 1e-8 ? Math.sqrt(v) : 1];
}

const transformed = (x: number, t: 'log1p' | 'none') => (Number.isNaN(x) || x < 0 && t === 'log1p' ? NaN : t === 'log1p' ? Math.log1p(x) : x);

export function fitNormalization(ds: Dataset, train: Int32Array, activityTransform: 'log1p' | 'none', withHistory = false): NormStats {
  const C = ds.channels.length, W = ds.windowEpochs, F = ds.speechFeatures.length;
  const per = new Map<number, Float64Array>(); // participant → [sum, sq, n] × C
  const pooled = new Float64Array(3 * C);
  const sp = new Float64Array(3 * F);
  for (const i of train) {
    const p = ds.participant[i];
    let acc = per.get(p); if (!acc) { acc = new Float64Array(3 * C); per.set(p, acc); }
    for (let c = 0; c < C; c++) for (let t = 0; t < W; t++) {
      const x = transformed(ds.activity[(i * C + c) * W + t], activityTransform);
      if (Number.isNaN(x)) continue;
      acc[3 * c] += x; acc[3 * c + 1] += x * x; acc[3 * c + 2]++;
      pooled[3 * c] += x; pooled[3 * c + 1] += x * x; pooled[3 * c + 2]++;
    }
    for (let f = 0; f < F; f++) {
      const x = ds.speech[i * F + f];
      if (Number.isNaN(x)) continue;
      sp[3 * f] += x; sp[3 * f + 1] += x * x; sp[3 * f + 2]++;
    }
  }
  const activity: NormStats['activity'] = {};
  for (const [p, acc] of per) activity[ds.participantIds[p]] = Array.from({ length: C }, (_, c) => meanSd(acc[3 * c], acc[3 * c + 1], acc[3 * c + 2]));
  const out: NormStats = {
    activityTransform, activity,
    activityPooled: Array.from({ length: C }, (_, c) => meanSd(pooled[3 * c], pooled[3 * c + 1], pooled[3 * c + 2])),
    speech: Array.from({ length: F }, (_, f) => meanSd(sp[3 * f], sp[3 * f + 1], sp[3 * f + 2])),
  };
  if (withHistory) {
    const hf = historyFeatures(ds), H = hf.names.length, acc = new Float64Array(3 * H);
    for (const i of train) for (let f = 0; f < H; f++) {
      const x = hf.values[i * H + f];
      if (!Number.isNaN(x)) { acc[3 * f] += x; acc[3 * f + 1] += x * x; acc[3 * f + 2]++; }
    }
    out.history = Array.from({ length: H }, (_, f) => meanSd(acc[3 * f], acc[3 * f + 1], acc[3 * f + 2]));
  }
  return out;
}

/** Standardised input values of instances `idx`, one Float32Array [n × dim] per modality. */
export function modalityValues(ds: Dataset, idx: ArrayLike<number>, mods: Modality[], st: NormStats, hist?: HistoryFeatures): Float32Array[] {
  const C = ds.channels.length, W = ds.windowEpochs, F = ds.speechFeatures.length, n = idx.length;
  return mods.map((m) => {
    const out = new Float32Array(n * m.dim);
    if (m.channel === HISTORY_CHANNEL) {
      const h = hist ?? historyFeatures(ds), H = m.dim, z = st.history ?? Array.from({ length: H }, () => [0, 1] as [number, number]);
      for (let r = 0; r < n; r++) for (let f = 0; f < H; f++) {
        const x = h.values[idx[r] * H + f];
        out[r * H + f] = Number.isNaN(x) ? 0 : (x - z[f][0]) / z[f][1];
      }
      return out;
    }
    for (let r = 0; r < n; r++) {
      const i = idx[r];
      if (m.channel >= 0) {
        const [mu, sd] = (st.activity[ds.participantIds[ds.participant[i]]] ?? st.activityPooled)[m.channel];
        for (let t = 0; t < W; t++) {
          const x = transformed(ds.activity[(i * C + m.channel) * W + t], st.activityTransform);
          out[r * W + t] = Number.isNaN(x) ? 0 : (x - mu) / sd;
        }
      } else {
        for (let f = 0; f < F; f++) {
          const x = ds.speech[i * F + f];
          out[r * F + f] = Number.isNaN(x) ? 0 : (x - st.speech[f][0]) / st.speech[f][1];
        }
      }
    }
    return out;
  });
}

/** The history features of the dataset when a modality reads them. */
export function historyOf(ds: Dataset, mods: Modality[]): HistoryFeatures | undefined {
  return mods.some((m) => m.channel === HISTORY_CHANNEL) ? historyFeatures(ds) : undefined;
}

/** Instance i's mask of each modality in `mods` (1 = present), written at out[offset …]. */
export function instanceMask(ds: Dataset, i: number, mods: Modality[], hist: HistoryFeatures | undefined, out: Float32Array, offset = 0): Float32Array {
  const Mds = ds.channels.length + 1;
  mods.forEach((m, j) => { out[offset + j] = m.channel === HISTORY_CHANNEL ? hist!.mask[i] : ds.modalityMask[i * Mds + (m.channel >= 0 ? m.channel : Mds - 1)]; });
  return out;
}

/** Pre-standardised inputs of a whole dataset, so batching is a copy. */
export interface Prepared {
  mods: Modality[];
  values: Float32Array[];   // per modality [n × dim] for all instances of ds
  mask: Float32Array;       // [n × M]
  labels: Float32Array;     // [n × K], 0 where missing
  labelMask: Float32Array;  // [n × K]
  /** Model user slot of each instance (−1: not a training participant). */
  user: Int32Array;
  K: number;
}

export function prepare(ds: Dataset, mods: Modality[], st: NormStats, participants: string[]): Prepared {
  const all = Int32Array.from({ length: ds.n }, (_, i) => i);
  const M = mods.length, K = ds.items.length;
  const mask = new Float32Array(ds.n * M), labels = new Float32Array(ds.n * K), labelMask = new Float32Array(ds.n * K);
  const slot = new Map(participants.map((p, i) => [p, i]));
  const user = new Int32Array(ds.n);
  const hist = historyOf(ds, mods);
  for (let i = 0; i < ds.n; i++) {
    instanceMask(ds, i, mods, hist, mask, i * M);
    for (let k = 0; k < K; k++) {
      const y = ds.labels[i * K + k];
      if (!Number.isNaN(y)) { labels[i * K + k] = y; labelMask[i * K + k] = 1; }
    }
    user[i] = slot.get(ds.participantIds[ds.participant[i]]) ?? -1;
  }
  return { mods, values: modalityValues(ds, all, mods, st, hist), mask, labels, labelMask, user, K };
}

export interface BatchTensors { inputs: T2[]; mask: T2; labels: T2; labelMask: T2; known: T2; user: Int32Array }

export interface BatchOptions {
  /** Training-time randomness: modality dropout (never all modalities) and micro dropout. */
  rng?: Rng; modalityDropout?: number; microDropout?: number;
  /** Restrict labels to one task (single-task training). */
  task?: number;
}

/** Tensors for instances `idx` of a prepared dataset. Caller disposes (or runs inside tidy). */
export function makeBatch(p: Prepared, idx: ArrayLike<number>, o: BatchOptions = {}): BatchTensors {
  const B = idx.length, M = p.mods.length, K = p.K;
  const inputs = p.mods.map((m, j) => {
    const v = new Float32Array(B * m.dim), src = p.values[j];
    for (let r = 0; r < B; r++) v.set(src.subarray(idx[r] * m.dim, (idx[r] + 1) * m.dim), r * m.dim);
    return tf.tensor2d(v, [B, m.dim]);
  });
  const mask = new Float32Array(B * M), labels = new Float32Array(B * K), lm = new Float32Array(B * K);
  const known = new Float32Array(B), user = new Int32Array(B);
  for (let r = 0; r < B; r++) {
    const i = idx[r];
    mask.set(p.mask.subarray(i * M, (i + 1) * M), r * M);
    if (o.rng && o.modalityDropout) {
      for (let j = 0; j < M; j++) {
        if (mask[r * M + j] === 0 || !o.rng.bernoulli(o.modalityDropout)) continue;
        let others = 0; for (let q = 0; q < M; q++) if (q !== j) others += mask[r * M + q];
        if (others > 0) mask[r * M + j] = 0;
      }
    }
    labels.set(p.labels.subarray(i * K, (i + 1) * K), r * K);
    lm.set(p.labelMask.subarray(i * K, (i + 1) * K), r * K);
    if (o.task !== undefined) for (let k = 0; k < K; k++) if (k !== o.task) lm[r * K + k] = 0;
    user[r] = p.user[i];
    known[r] = user[r] >= 0 && !(o.rng && o.microDropout && o.rng.bernoulli(o.microDropout)) ? 1 : 0;
  }
  return {
    inputs, mask: tf.tensor2d(mask, [B, M]), labels: tf.tensor2d(labels, [B, K]), labelMask: tf.tensor2d(lm, [B, K]),
    known: tf.tensor2d(known, [B, 1]), user,
  };
}

export function disposeBatch(b: BatchTensors): void {
  tf.dispose([...b.inputs, b.mask, b.labels, b.labelMask, b.known]);
}

export function bindUsers(user: Int32Array, tables: UserTable[], trainable: boolean): UserBatch {
  return new UserBatch(user, tables, trainable);
}
