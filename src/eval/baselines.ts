/**
 * Reference predictors (SPEC §6 "honest references", issue 16): what a model must beat on the SAME
 * instances it is evaluated on. All four predict on the [0,1] label scale, n × K row-major:
 *
 *   globalMean       each item's mean over the training instances (all participants).
 *   personMean       each participant's training mean of the item (global mean when the
 *                    participant has no training answer of it).
 *   lastReport       the participant's most recent report of the item ANSWERED STRICTLY BEFORE the
 *                    predicted one was answered (`answered_at`, default `time`), whatever split it
 *                    is in — at prediction time it is known. Among earlier-answered reports the
 *                    latest answered, then latest `time`, wins. None yet: the person mean.
 *   personMeanRidge  the person mean plus a ridge regression (shared by all participants, no
 *                    intercept) of the residual y − personMean on window summaries: per activity
 *                    channel the mean and SD of the (log1p) epochs of the window, each z-scored
 *                    within participant with its training statistics, and the speech features
 *                    z-scored with the training statistics; missing → 0. The ridge penalty is
 *                    chosen on the development instances (mean CCC) from a small grid, or given.
 *
 * Pure; browser-safe. Nothing here reads a label of a test instance except `lastReport`, which
 * reads only labels answered before the instance it predicts.
 */
import type { Dataset, Split } from '../data/dataset.js';
import { answeredAtOf } from '../data/dataset.js';
import { ccc } from './metrics.js';

export const BASELINE_NAMES = ['globalMean', 'personMean', 'lastReport', 'personMeanRidge'] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

export const BASELINE_LABELS: Record<BaselineName, string> = {
  globalMean: 'global training mean',
  personMean: "participant's training mean",
  lastReport: 'last report answered before',
  personMeanRidge: 'person mean + ridge on window summaries',
};

export interface BaselineOptions {
  /** Ridge penalty of personMeanRidge; default: chosen on split.dev from RIDGE_GRID (10 without dev). */
  ridgeAlpha?: number;
  /** Transform of activity values before the window summaries (the model's default: log1p). */
  activityTransform?: 'log1p' | 'none';
}

export const RIDGE_GRID = [0.1, 1, 10, 100, 1000];

/** Per item, the mean of the labels of `rows` (NaN where none answered). */
function itemMeans(ds: Dataset, rows: ArrayLike<number>): Float64Array {
  const K = ds.items.length, s = new Float64Array(K), c = new Float64Array(K);
  for (let r = 0; r < rows.length; r++) for (let k = 0; k < K; k++) {
    const y = ds.labels[rows[r] * K + k];
    if (!Number.isNaN(y)) { s[k] += y; c[k]++; }
  }
  return s.map((v, k) => (c[k] ? v / c[k] : NaN));
}

/** Global training mean per item (0.5 for an item never answered in training). */
export function globalMeans(ds: Dataset, train: ArrayLike<number>): Float64Array {
  return itemMeans(ds, train).map((v) => (Number.isNaN(v) ? 0.5 : v));
}

/** participant index → per-item training mean, falling back to the global mean. */
export function personMeans(ds: Dataset, train: ArrayLike<number>): Map<number, Float64Array> {
  const g = globalMeans(ds, train), byP = new Map<number, number[]>();
  for (let r = 0; r < train.length; r++) {
    const p = ds.participant[train[r]];
    let a = byP.get(p); if (!a) { a = []; byP.set(p, a); }
    a.push(train[r]);
  }
  const out = new Map<number, Float64Array>();
  for (const [p, rows] of byP) out.set(p, itemMeans(ds, rows).map((v, k) => (Number.isNaN(v) ? g[k] : v)));
  return out;
}

function fill(idx: ArrayLike<number>, K: number, row: (i: number, k: number) => number): Float32Array {
  const out = new Float32Array(idx.length * K);
  for (let r = 0; r < idx.length; r++) for (let k = 0; k < K; k++) out[r * K + k] = row(idx[r], k);
  return out;
}

export function globalMeanPredictions(ds: Dataset, train: ArrayLike<number>, idx: ArrayLike<number>): Float32Array {
  const g = globalMeans(ds, train);
  return fill(idx, ds.items.length, (_, k) => g[k]);
}

export function personMeanPredictions(ds: Dataset, train: ArrayLike<number>, idx: ArrayLike<number>): Float32Array {
  const g = globalMeans(ds, train), pm = personMeans(ds, train);
  return fill(idx, ds.items.length, (i, k) => (pm.get(ds.participant[i]) ?? g)[k]);
}

/**
 * For every instance of the dataset and item: the instance index of the participant's most recent
 * report of that item answered strictly before it (−1: none). n × K row-major.
 */
export function lastAnsweredBefore(ds: Dataset): Int32Array {
  const K = ds.items.length, out = new Int32Array(ds.n * K).fill(-1);
  const byP = new Map<number, number[]>();
  for (let i = 0; i < ds.n; i++) {
    let a = byP.get(ds.participant[i]); if (!a) { a = []; byP.set(ds.participant[i], a); }
    a.push(i);
  }
  const last = new Int32Array(K);
  for (const rows of byP.values()) {
    rows.sort((a, b) => (answeredAtOf(ds, a) - answeredAtOf(ds, b)) || (ds.time[a] - ds.time[b]) ||
      (ds.reportIds[a] < ds.reportIds[b] ? -1 : ds.reportIds[a] > ds.reportIds[b] ? 1 : 0));
    last.fill(-1);
    // Groups of equal answered_at: each member sees only earlier groups; then the group updates.
    for (let s = 0; s < rows.length;) {
      let e = s + 1;
      while (e < rows.length && answeredAtOf(ds, rows[e]) === answeredAtOf(ds, rows[s])) e++;
      for (let j = s; j < e; j++) out.set(last, rows[j] * K);
      for (let j = s; j < e; j++) for (let k = 0; k < K; k++) if (!Number.isNaN(ds.labels[rows[j] * K + k])) last[k] = rows[j];
      s = e;
    }
  }
  return out;
}

export function lastReportPredictions(ds: Dataset, train: ArrayLike<number>, idx: ArrayLike<number>): Float32Array {
  const K = ds.items.length, prev = lastAnsweredBefore(ds);
  const g = globalMeans(ds, train), pm = personMeans(ds, train);
  return fill(idx, K, (i, k) => {
    const j = prev[i * K + k];
    return j >= 0 ? ds.labels[j * K + k] : (pm.get(ds.participant[i]) ?? g)[k];
  });
}

/** Names of the window-summary features (per channel mean and SD, then the speech features). */
export function windowSummaryNames(ds: Dataset): string[] {
  return [...ds.channels.flatMap((c) => [`${c}_mean`, `${c}_sd`]), ...ds.speechFeatures];
}

/**
 * n × P raw window summaries (NaN where the window has no epoch / the feature is missing):
 * per channel mean and population SD of the transformed epochs, then the speech features.
 */
export function rawWindowSummaries(ds: Dataset, transform: 'log1p' | 'none' = 'log1p'): Float64Array {
  const C = ds.channels.length, W = ds.windowEpochs, F = ds.speechFeatures.length, P = 2 * C + F;
  const out = new Float64Array(ds.n * P);
  for (let i = 0; i < ds.n; i++) {
    for (let c = 0; c < C; c++) {
      let s = 0, q = 0, m = 0;
      for (let t = 0; t < W; t++) {
        let x = ds.activity[(i * C + c) * W + t];
        if (Number.isNaN(x)) continue;
        if (transform === 'log1p') { if (x < 0) continue; x = Math.log1p(x); }
        s += x; q += x * x; m++;
      }
      const mu = m ? s / m : NaN;
      out[i * P + 2 * c] = mu;
      out[i * P + 2 * c + 1] = m ? Math.sqrt(Math.max(0, q / m - mu * mu)) : NaN;
    }
    for (let f = 0; f < F; f++) out[i * P + 2 * C + f] = ds.speech[i * F + f];
  }
  return out;
}

/**
 * Standardised window summaries: activity summaries z-scored per participant with the
 * participant's training statistics (pooled training statistics for a participant without
 * training instances), speech features with the pooled training statistics; missing → 0.
 */
export function windowSummaryFeatures(ds: Dataset, train: ArrayLike<number>, transform: 'log1p' | 'none' = 'log1p'): { X: Float64Array; P: number } {
  const C = ds.channels.length, P = 2 * C + ds.speechFeatures.length;
  const raw = rawWindowSummaries(ds, transform);
  const stats = (rows: number[], f: number): [number, number] => {
    let s = 0, q = 0, m = 0;
    for (const i of rows) { const x = raw[i * P + f]; if (!Number.isNaN(x)) { s += x; q += x * x; m++; } }
    if (!m) return [0, 1];
    const mu = s / m, sd = Math.sqrt(Math.max(0, q / m - mu * mu));
    return [mu, sd > 1e-8 ? sd : 1];
  };
  const all = Array.from(train), byP = new Map<number, number[]>();
  for (const i of all) { let a = byP.get(ds.participant[i]); if (!a) { a = []; byP.set(ds.participant[i], a); } a.push(i); }
  const pooled = Array.from({ length: P }, (_, f) => stats(all, f));
  const perP = new Map<number, [number, number][]>();
  for (const [p, rows] of byP) perP.set(p, Array.from({ length: 2 * C }, (_, f) => stats(rows, f)));
  const X = new Float64Array(ds.n * P);
  for (let i = 0; i < ds.n; i++) {
    const own = perP.get(ds.participant[i]);
    for (let f = 0; f < P; f++) {
      const x = raw[i * P + f];
      const [mu, sd] = f < 2 * C && own ? own[f] : pooled[f];
      X[i * P + f] = Number.isNaN(x) ? 0 : (x - mu) / sd;
    }
  }
  return { X, P };
}

/** Solve (A) w = b for symmetric positive definite A (P × P, row-major) by Cholesky. */
export function solveSpd(A: Float64Array, b: Float64Array, P: number): Float64Array {
  const L = new Float64Array(P * P);
  for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) {
    let s = A[i * P + j];
    for (let t = 0; t < j; t++) s -= L[i * P + t] * L[j * P + t];
    if (i === j) L[i * P + i] = Math.sqrt(Math.max(s, 1e-300)); else L[i * P + j] = s / L[j * P + j];
  }
  const y = new Float64Array(P);
  for (let i = 0; i < P; i++) { let s = b[i]; for (let t = 0; t < i; t++) s -= L[i * P + t] * y[t]; y[i] = s / L[i * P + i]; }
  const w = new Float64Array(P);
  for (let i = P - 1; i >= 0; i--) { let s = y[i]; for (let t = i + 1; t < P; t++) s -= L[t * P + i] * w[t]; w[i] = s / L[i * P + i]; }
  return w;
}

/**
 * Per item, ridge weights w_k = (XᵀX + αI)⁻¹ Xᵀ r_k over the training instances answering item k,
 * r = y − personMean. Returns K × P.
 */
export function ridgeWeights(ds: Dataset, train: ArrayLike<number>, X: Float64Array, P: number, alpha: number): Float64Array {
  const K = ds.items.length, pm = personMeans(ds, train), W = new Float64Array(K * P);
  for (let k = 0; k < K; k++) {
    const A = new Float64Array(P * P), b = new Float64Array(P);
    for (let r = 0; r < train.length; r++) {
      const i = train[r], y = ds.labels[i * K + k];
      if (Number.isNaN(y)) continue;
      const res = y - pm.get(ds.participant[i])![k];
      for (let a = 0; a < P; a++) {
        const xa = X[i * P + a];
        if (xa === 0) continue;
        b[a] += xa * res;
        for (let c = 0; c < P; c++) A[a * P + c] += xa * X[i * P + c];
      }
    }
    for (let a = 0; a < P; a++) A[a * P + a] += alpha;
    W.set(solveSpd(A, b, P), k * P);
  }
  return W;
}

function ridgePredict(ds: Dataset, train: ArrayLike<number>, idx: ArrayLike<number>, X: Float64Array, P: number, W: Float64Array): Float32Array {
  const K = ds.items.length, g = globalMeans(ds, train), pm = personMeans(ds, train);
  return fill(idx, K, (i, k) => {
    let s = (pm.get(ds.participant[i]) ?? g)[k];
    for (let a = 0; a < P; a++) s += X[i * P + a] * W[k * P + a];
    return Math.min(1, Math.max(0, s));
  });
}

function meanCcc(ds: Dataset, idx: ArrayLike<number>, pred: Float32Array): number {
  const K = ds.items.length; let s = 0, m = 0;
  for (let k = 0; k < K; k++) {
    const a = new Float64Array(idx.length), p = new Float64Array(idx.length);
    for (let r = 0; r < idx.length; r++) { a[r] = ds.labels[idx[r] * K + k]; p[r] = pred[r * K + k]; }
    const c = ccc(a, p);
    if (Number.isFinite(c)) { s += c; m++; }
  }
  return m ? s / m : NaN;
}

export interface RidgeFit { alpha: number; features: string[]; weights: Float64Array }

export function personMeanRidgePredictions(ds: Dataset, split: Pick<Split, 'train' | 'dev'>, idx: ArrayLike<number>, o: BaselineOptions = {}): { predicted: Float32Array; fit: RidgeFit } {
  const { X, P } = windowSummaryFeatures(ds, split.train, o.activityTransform ?? 'log1p');
  let alpha = o.ridgeAlpha ?? 10;
  if (o.ridgeAlpha === undefined && split.dev.length > 1) {
    let best = -Infinity;
    for (const a of RIDGE_GRID) {
      const v = meanCcc(ds, split.dev, ridgePredict(ds, split.train, split.dev, X, P, ridgeWeights(ds, split.train, X, P, a)));
      if (v > best) { best = v; alpha = a; }
    }
  }
  const weights = ridgeWeights(ds, split.train, X, P, alpha);
  return { predicted: ridgePredict(ds, split.train, idx, X, P, weights), fit: { alpha, features: windowSummaryNames(ds), weights } };
}

/** All four baselines' predictions for instances `idx` (n × K each, [0,1] scale). */
export function baselinePredictions(ds: Dataset, split: Pick<Split, 'train' | 'dev'>, idx: ArrayLike<number>, o: BaselineOptions = {}): Record<BaselineName, Float32Array> {
  return {
    globalMean: globalMeanPredictions(ds, split.train, idx),
    personMean: personMeanPredictions(ds, split.train, idx),
    lastReport: lastReportPredictions(ds, split.train, idx),
    personMeanRidge: personMeanRidgePredictions(ds, split, idx, o).predicted,
  };
}
