/**
 * Evaluation of predictions against the reports (SPEC §3): per-item CCC and the mean over items,
 * each with a participant-bootstrap CI, and the same by missingness pattern (which modalities
 * the instance had), so a study sees how accuracy degrades when speech or activity is missing.
 * Pure: takes the dataset, the instance indices and the n × K predictions on the [0,1] scale.
 */
import type { Dataset, Split } from '../data/dataset.js';
import { modalityNames } from '../data/dataset.js';
import { itemCccWithCI } from './bootstrap.js';
import { balancedAccuracy, ccc, f1, rocAuc } from './metrics.js';
import { BASELINE_NAMES, baselinePredictions, type BaselineName, type BaselineOptions } from './baselines.js';
import { pairedCccComparison, type PairedResult } from './compare.js';

/** Scores of a 0/1 item, the prediction read as "1" when ≥ ½ (AUC uses the prediction as it is). */
export interface BinaryScores { balancedAccuracy: number; auc: number; f1: number }
export interface ItemResult {
  ccc: number; ciLow: number; ciHigh: number; n: number;
  /** Only for items whose answers are all 0 or 1 (e.g. LifeSnaps' moods). */
  binary?: BinaryScores;
}
export interface PatternResult { pattern: string; n: number; meanCCC: number; ciLow: number; ciHigh: number }
export interface Evaluation {
  n: number; participants: number;
  meanCCC: number; meanCiLow: number; meanCiHigh: number; sdCCC: number;
  items: Record<string, ItemResult>;
  byPattern: PatternResult[];
}

/** "zcm+pim+speech" for an instance's present modalities ("none" if none). */
export function missingnessPattern(ds: Dataset, i: number): string {
  const names = modalityNames(ds), M = names.length;
  const present = names.filter((_, m) => ds.modalityMask[i * M + m]);
  return present.length ? present.join('+') : 'none';
}

export function evaluatePredictions(ds: Dataset, idx: Int32Array, predicted: Float32Array, opts: { B?: number; seed?: number } = {}): Evaluation {
  const K = ds.items.length, items = ds.items.map((it) => it.id);
  const actual = new Float64Array(idx.length * K);
  for (let r = 0; r < idx.length; r++) for (let k = 0; k < K; k++) actual[r * K + k] = ds.labels[idx[r] * K + k];
  const participant = Array.from(idx, (i) => ds.participant[i]);
  const boot = { B: opts.B ?? 1000, seed: opts.seed ?? 1 };
  const res = itemCccWithCI({ participant, items, actual, predicted }, boot);
  const out: Evaluation = {
    n: idx.length, participants: new Set(participant).size,
    meanCCC: res.mean.estimate, meanCiLow: res.mean.lower, meanCiHigh: res.mean.upper, sdCCC: res.sd,
    items: {}, byPattern: [],
  };
  items.forEach((it, k) => {
    let n = 0; for (let r = 0; r < idx.length; r++) if (!Number.isNaN(actual[r * K + k])) n++;
    out.items[it] = { ccc: res.items[it].estimate, ciLow: res.items[it].lower, ciHigh: res.items[it].upper, n };
    const a = Float64Array.from({ length: idx.length }, (_, r) => actual[r * K + k]);
    const p = Float64Array.from({ length: idx.length }, (_, r) => predicted[r * K + k]);
    const binary = binaryScores(a, p);
    if (binary) out.items[it].binary = binary;
  });
  const groups = new Map<string, number[]>();
  for (let r = 0; r < idx.length; r++) {
    const p = missingnessPattern(ds, idx[r]);
    if (!groups.has(p)) groups.set(p, []);
    groups.get(p)!.push(r);
  }
  for (const [pattern, rows] of [...groups.entries()].sort((a, b) => b[1].length - a[1].length)) {
    const sub = (src: ArrayLike<number>) => { const o = new Float64Array(rows.length * K); rows.forEach((r, j) => { for (let k = 0; k < K; k++) o[j * K + k] = src[r * K + k]; }); return o; };
    const a = sub(actual), p = sub(predicted);
    if (rows.length < 3) { out.byPattern.push({ pattern, n: rows.length, meanCCC: NaN, ciLow: NaN, ciHigh: NaN }); continue; }
    const pr = itemCccWithCI({ participant: rows.map((r) => participant[r]), items, actual: a, predicted: p }, { ...boot, B: Math.min(boot.B, 300) });
    out.byPattern.push({ pattern, n: rows.length, meanCCC: pr.mean.estimate, ciLow: pr.mean.lower, ciHigh: pr.mean.upper });
  }
  return out;
}

/**
 * Balanced accuracy, AUC and F1 (of class 1) of an item whose answered values are all 0 or 1 on
 * the label scale (undefined otherwise, or when nothing is answered); predictions ≥ ½ count as 1.
 */
export function binaryScores(actual: ArrayLike<number>, predicted: ArrayLike<number>): BinaryScores | undefined {
  const a: number[] = [], p: number[] = [], s: number[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i])) continue;
    if (actual[i] !== 0 && actual[i] !== 1) return undefined;
    if (Number.isNaN(predicted[i])) continue;
    a.push(actual[i]); s.push(predicted[i]); p.push(predicted[i] >= 0.5 ? 1 : 0);
  }
  if (a.length === 0) return undefined;
  return { balancedAccuracy: balancedAccuracy(a, p), auc: rocAuc(a, s), f1: f1(a, p, { average: 'binary', positive: 1, labels: [0, 1] }) };
}

/** Per-item CCC and mean without intervals (fast; used for per-participant checks). */
export function meanCCC(actual: ArrayLike<number>, predicted: ArrayLike<number>, K: number): { mean: number; items: number[] } {
  const n = actual.length / K, items: number[] = [];
  for (let k = 0; k < K; k++) {
    const a = new Float64Array(n), p = new Float64Array(n);
    for (let i = 0; i < n; i++) { a[i] = actual[i * K + k]; p[i] = predicted[i * K + k]; }
    items.push(ccc(a, p));
  }
  const f = items.filter(Number.isFinite);
  return { mean: f.length ? f.reduce((x, y) => x + y, 0) / f.length : NaN, items };
}

/** The model against the best reference predictor on the same instances (paired participant bootstrap). */
export interface VersusBaseline {
  /** The baseline with the highest mean CCC on these instances. */
  baseline: BaselineName;
  /** model − baseline: mean over items, and per item. */
  mean: PairedResult;
  items: Record<string, PairedResult>;
  B: number;
}

export interface EvaluationWithBaselines extends Evaluation {
  /** The four reference predictors on the SAME instances, in the model's format. */
  baselines: Record<BaselineName, Evaluation>;
  vsBestBaseline: VersusBaseline;
}

/**
 * `evaluatePredictions` plus the reference predictors of `baselines.ts` on the same instances
 * (same bootstrap seed, so the same resamples) and the model's paired difference to the best one.
 */
export function evaluateWithBaselines(
  ds: Dataset, split: Pick<Split, 'train' | 'dev'>, idx: Int32Array, predicted: Float32Array,
  opts: { B?: number; seed?: number; baselines?: BaselineOptions } = {},
): EvaluationWithBaselines {
  const model = evaluatePredictions(ds, idx, predicted, opts);
  const preds = baselinePredictions(ds, split, idx, opts.baselines);
  const baselines = Object.fromEntries(BASELINE_NAMES.map((b) => [b, evaluatePredictions(ds, idx, preds[b], opts)])) as Record<BaselineName, Evaluation>;
  let best: BaselineName = 'personMean';
  for (const b of BASELINE_NAMES) if (Number.isFinite(baselines[b].meanCCC) && !(baselines[b].meanCCC <= baselines[best].meanCCC)) best = b;
  const K = ds.items.length, actual = new Float64Array(idx.length * K);
  for (let r = 0; r < idx.length; r++) for (let k = 0; k < K; k++) actual[r * K + k] = ds.labels[idx[r] * K + k];
  const B = Math.max(opts.B ?? 1000, 1000);
  const cmp = pairedCccComparison({
    participant: Array.from(idx, (i) => ds.participant[i]), items: ds.items.map((it) => it.id), actual, predictedA: predicted, predictedB: preds[best],
  }, { B, seed: opts.seed ?? 1 });
  return { ...model, baselines, vsBestBaseline: { baseline: best, mean: cmp.mean, items: cmp.items, B } };
}
