/**
 * Evaluation metrics (SPEC §3 "Metric"). Pure functions over arrays; browser-safe.
 *
 * Regression metrics take (actual, predicted) of equal length and skip every pair in which
 * either value is NaN. Classification metrics take label arrays (numbers or strings) and skip
 * pairs with a missing label (null, undefined, NaN, '').
 */

// ───────────────────────────── regression ─────────────────────────────

/** Population (divide-by-n) first and second moments of the complete pairs. */
interface PairMoments { n: number; mx: number; my: number; vx: number; vy: number; cxy: number }

function pairMoments(actual: ArrayLike<number>, predicted: ArrayLike<number>): PairMoments {
  checkSameLength(actual, predicted);
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i], y = predicted[i];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    n++; sx += x; sy += y;
  }
  const mx = n > 0 ? sx / n : NaN, my = n > 0 ? sy / n : NaN;
  let vx = 0, vy = 0, cxy = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i], y = predicted[i];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    vx += (x - mx) ** 2; vy += (y - my) ** 2; cxy += (x - mx) * (y - my);
  }
  return { n, mx, my, vx: vx / n, vy: vy / n, cxy: cxy / n };
}

/**
 * Concordance correlation coefficient (Lin 1989), population (divide-by-n) moments:
 *   CCC = 2·cov(x,y) / (σx² + σy² + (μx − μy)²)
 * NaN when fewer than 2 complete pairs or when the denominator is 0.
 */
export function ccc(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const m = pairMoments(actual, predicted);
  if (m.n < 2) return NaN;
  const den = m.vx + m.vy + (m.mx - m.my) ** 2;
  return den === 0 ? NaN : (2 * m.cxy) / den;
}

/**
 * Pearson correlation r = cov(x,y) / (σx σy). NaN when fewer than 2 complete pairs or when
 * either vector is constant.
 */
export function pearson(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const m = pairMoments(actual, predicted);
  if (m.n < 2) return NaN;
  const den = Math.sqrt(m.vx * m.vy);
  if (den === 0) return NaN;
  // Clamp rounding just outside [-1, 1].
  return Math.max(-1, Math.min(1, m.cxy / den));
}

/** Mean absolute error (1/n) Σ |x − y|; NaN when there is no complete pair. */
export function mae(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkSameLength(actual, predicted);
  let n = 0, s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i] - predicted[i];
    if (Number.isNaN(d)) continue;
    n++; s += Math.abs(d);
  }
  return n === 0 ? NaN : s / n;
}

/** Root mean squared error √((1/n) Σ (x − y)²); NaN when there is no complete pair. */
export function rmse(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  checkSameLength(actual, predicted);
  let n = 0, s = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = actual[i] - predicted[i];
    if (Number.isNaN(d)) continue;
    n++; s += d * d;
  }
  return n === 0 ? NaN : Math.sqrt(s / n);
}

/** A metric of (actual, predicted), e.g. `ccc`; used by per-item summaries and the bootstrap. */
export type RegressionMetric = (actual: ArrayLike<number>, predicted: ArrayLike<number>) => number;

export const REGRESSION_METRICS: Record<'ccc' | 'pearson' | 'mae' | 'rmse', RegressionMetric> = {
  ccc, pearson, mae, rmse,
};

// ─────────────────────────── classification ───────────────────────────

export type Label = number | string;
type LabelArray = ArrayLike<Label | null | undefined>;

function isMissing(v: Label | null | undefined): v is null | undefined {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

/**
 * Confusion matrix C with C[i][j] = number of samples whose actual label is labels[i] and whose
 * predicted label is labels[j] (the scikit-learn convention: rows actual, columns predicted).
 * `labels` defaults to the sorted union of the labels seen. Pairs with a missing label, or with
 * a label outside `labels`, are skipped.
 */
export interface ConfusionMatrix { labels: Label[]; matrix: number[][]; n: number }

export function confusionMatrix(actual: LabelArray, predicted: LabelArray, labels?: readonly Label[]): ConfusionMatrix {
  checkSameLength(actual, predicted);
  let ls: Label[];
  if (labels) ls = [...labels];
  else {
    const seen = new Set<Label>();
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i], p = predicted[i];
      if (isMissing(a) || isMissing(p)) continue;
      seen.add(a); seen.add(p);
    }
    ls = [...seen].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
  }
  const index = new Map<Label, number>(ls.map((l, i) => [l, i]));
  const matrix = ls.map(() => new Array<number>(ls.length).fill(0));
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], p = predicted[i];
    if (isMissing(a) || isMissing(p)) continue;
    const ia = index.get(a), ip = index.get(p);
    if (ia === undefined || ip === undefined) continue;
    matrix[ia][ip]++; n++;
  }
  return { labels: ls, matrix, n };
}

/** Per-class true positives, false positives, false negatives and support (actual count). */
function classCounts(cm: ConfusionMatrix): { tp: number[]; fp: number[]; fn: number[]; support: number[] } {
  const K = cm.labels.length;
  const tp = new Array<number>(K).fill(0), fp = tp.slice(), fn = tp.slice(), support = tp.slice();
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const c = cm.matrix[i][j];
      support[i] += c;
      if (i === j) tp[i] += c; else { fn[i] += c; fp[j] += c; }
    }
  }
  return { tp, fp, fn, support };
}

/** 0/0 is taken as 0, as scikit-learn does by default (zero_division="warn" → 0). */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * How per-class scores are combined:
 *  - 'micro': from the pooled counts (Σtp / Σ(tp+fp) …); equals accuracy for single-label data;
 *  - 'macro': unweighted mean of the per-class scores over `labels` (default: every label seen);
 *  - 'binary': the score of the positive class only (`positive`, default 1).
 */
export type Average = 'micro' | 'macro' | 'binary';

export interface AverageOptions {
  average?: Average;
  /** Positive class for average 'binary' (default 1). */
  positive?: Label;
  /** The classes to score (default: the sorted union of the labels seen). */
  labels?: readonly Label[];
}

export interface PerClassScores { labels: Label[]; precision: number[]; recall: number[]; f1: number[]; support: number[] }

/** Precision tp/(tp+fp), recall tp/(tp+fn) and F1 = 2PR/(P+R) for every class. */
export function perClassScores(actual: LabelArray, predicted: LabelArray, labels?: readonly Label[]): PerClassScores {
  const cm = confusionMatrix(actual, predicted, labels);
  const { tp, fp, fn, support } = classCounts(cm);
  const precision = tp.map((t, k) => ratio(t, t + fp[k]));
  const recall = tp.map((t, k) => ratio(t, t + fn[k]));
  // F1 = 2tp / (2tp + fp + fn), identical to 2PR/(P+R) and defined as 0 when tp = fp = fn = 0.
  const f1 = tp.map((t, k) => ratio(2 * t, 2 * t + fp[k] + fn[k]));
  return { labels: cm.labels, precision, recall, f1, support };
}

function averaged(which: 'precision' | 'recall' | 'f1', actual: LabelArray, predicted: LabelArray, opts: AverageOptions): number {
  const average = opts.average ?? 'macro';
  if (average === 'binary') {
    const pos = opts.positive ?? 1;
    const s = perClassScores(actual, predicted, opts.labels ?? mergeLabels(actual, predicted, pos));
    const k = s.labels.indexOf(pos);
    return s[which][k];
  }
  const cm = confusionMatrix(actual, predicted, opts.labels);
  if (cm.n === 0) return NaN;
  if (average === 'micro') {
    const { tp, fp, fn } = classCounts(cm);
    const TP = sum(tp), FP = sum(fp), FN = sum(fn);
    if (which === 'precision') return ratio(TP, TP + FP);
    if (which === 'recall') return ratio(TP, TP + FN);
    return ratio(2 * TP, 2 * TP + FP + FN);
  }
  const s = perClassScores(actual, predicted, cm.labels);
  return s[which].length === 0 ? NaN : sum(s[which]) / s[which].length;
}

function mergeLabels(actual: LabelArray, predicted: LabelArray, extra: Label): Label[] {
  const ls = confusionMatrix(actual, predicted).labels;
  return ls.includes(extra) ? ls : [...ls, extra];
}

/** Precision; `average` defaults to 'macro'. */
export function precision(actual: LabelArray, predicted: LabelArray, opts: AverageOptions = {}): number {
  return averaged('precision', actual, predicted, opts);
}

/** Recall; `average` defaults to 'macro'. */
export function recall(actual: LabelArray, predicted: LabelArray, opts: AverageOptions = {}): number {
  return averaged('recall', actual, predicted, opts);
}

/** F1 score; `average` defaults to 'macro'. */
export function f1(actual: LabelArray, predicted: LabelArray, opts: AverageOptions = {}): number {
  return averaged('f1', actual, predicted, opts);
}

/** Accuracy = (number of pairs with actual = predicted) / n; NaN when no complete pair. */
export function accuracy(actual: LabelArray, predicted: LabelArray): number {
  checkSameLength(actual, predicted);
  let n = 0, hit = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], p = predicted[i];
    if (isMissing(a) || isMissing(p)) continue;
    n++; if (a === p) hit++;
  }
  return n === 0 ? NaN : hit / n;
}

/**
 * Balanced accuracy = mean over the classes that occur in `actual` of their recall
 * (the unweighted average recall, UAR). Classes only ever predicted do not count
 * (scikit-learn's `balanced_accuracy_score`).
 */
export function balancedAccuracy(actual: LabelArray, predicted: LabelArray): number {
  const s = perClassScores(actual, predicted);
  let k = 0, r = 0;
  for (let i = 0; i < s.labels.length; i++) if (s.support[i] > 0) { k++; r += s.recall[i]; }
  return k === 0 ? NaN : r / k;
}

export interface ClassificationReport {
  n: number;
  accuracy: number;
  balancedAccuracy: number;
  precision: { micro: number; macro: number };
  recall: { micro: number; macro: number };
  f1: { micro: number; macro: number };
  perClass: PerClassScores;
  confusion: ConfusionMatrix;
}

/** Every classification metric at once. */
export function classificationReport(actual: LabelArray, predicted: LabelArray, labels?: readonly Label[]): ClassificationReport {
  const confusion = confusionMatrix(actual, predicted, labels);
  const l = confusion.labels;
  return {
    n: confusion.n,
    accuracy: accuracy(actual, predicted),
    balancedAccuracy: balancedAccuracy(actual, predicted),
    precision: { micro: precision(actual, predicted, { average: 'micro', labels: l }), macro: precision(actual, predicted, { average: 'macro', labels: l }) },
    recall: { micro: recall(actual, predicted, { average: 'micro', labels: l }), macro: recall(actual, predicted, { average: 'macro', labels: l }) },
    f1: { micro: f1(actual, predicted, { average: 'micro', labels: l }), macro: f1(actual, predicted, { average: 'macro', labels: l }) },
    perClass: perClassScores(actual, predicted, l),
    confusion,
  };
}

/**
 * Area under the ROC curve of scores for 0/1 labels: the probability that a random positive
 * scores above a random negative, ties counting ½ (the Mann–Whitney U / (n₁·n₀), with mid-ranks).
 * Pairs with a missing label or score are skipped; NaN when a class is absent.
 */
export function rocAuc(actual: ArrayLike<number>, score: ArrayLike<number>): number {
  checkSameLength(actual, score);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], s = score[i];
    if (Number.isNaN(a) || Number.isNaN(s)) continue;
    pairs.push([s, a === 1 ? 1 : 0]);
  }
  pairs.sort((x, y) => x[0] - y[0]);
  let nPos = 0, rankSum = 0;
  for (let i = 0; i < pairs.length;) {
    let j = i;
    while (j < pairs.length && pairs[j][0] === pairs[i][0]) j++;
    const midRank = (i + 1 + j) / 2; // ranks i+1 … j share their mean
    for (let k = i; k < j; k++) if (pairs[k][1] === 1) { nPos++; rankSum += midRank; }
    i = j;
  }
  const nNeg = pairs.length - nPos;
  return nPos === 0 || nNeg === 0 ? NaN : (rankSum - nPos * (nPos + 1) / 2) / (nPos * nNeg);
}

// ─────────────────────────────── helpers ───────────────────────────────

function sum(a: readonly number[]): number { let s = 0; for (const v of a) s += v; return s; }

function checkSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new RangeError(`actual and predicted differ in length (${a.length} vs ${b.length})`);
}
