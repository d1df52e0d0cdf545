/**
 * Per-item scores and their mean (SD) over items — the shape of the paper's tables
 * ("CCC per item, and mean (SD) over the 9 items", SPEC §3). Pure; browser-safe.
 */
import { ccc, type RegressionMetric } from './metrics.js';

export interface MeanSd {
  mean: number;
  /** Standard deviation with `ddof` (default 1: the sample SD, as pandas and R report). */
  sd: number;
  /** Number of finite values used. */
  n: number;
}

/**
 * Mean and SD of the finite values:  mean = Σv/n,  sd = √(Σ(v − mean)² / (n − ddof)).
 * mean is NaN when n = 0; sd is NaN when n − ddof ≤ 0.
 */
export function meanSd(values: ArrayLike<number>, ddof = 1): MeanSd {
  let n = 0, s = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) { n++; s += values[i]; }
  const mean = n === 0 ? NaN : s / n;
  let ss = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) ss += (values[i] - mean) ** 2;
  const sd = n - ddof > 0 ? Math.sqrt(ss / (n - ddof)) : NaN;
  return { mean, sd, n };
}

export interface ItemSummary extends MeanSd {
  /** Item → score (NaN where the metric is undefined, e.g. a constant item). */
  perItem: Record<string, number>;
}

/** Summarise already computed per-item scores: the scores plus their mean (SD) over items. */
export function summarizeItems(perItem: Record<string, number>, ddof = 1): ItemSummary {
  return { perItem: { ...perItem }, ...meanSd(Object.values(perItem), ddof) };
}

/**
 * Score every item with `metric` (default CCC) and summarise.
 * `actual` and `predicted` are n × K row-major (K = items.length), as `Dataset.labels` is;
 * for K = 1 they are plain vectors. NaN cells are skipped pairwise per item.
 */
export function perItemScores(
  items: readonly string[],
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
  metric: RegressionMetric = ccc,
  ddof = 1,
): ItemSummary {
  const K = items.length;
  if (K === 0) throw new RangeError('perItemScores: no items');
  if (actual.length !== predicted.length) throw new RangeError(`actual and predicted differ in length (${actual.length} vs ${predicted.length})`);
  if (actual.length % K !== 0) throw new RangeError(`array length ${actual.length} is not a multiple of the ${K} items`);
  const n = actual.length / K;
  const a = new Float64Array(n), p = new Float64Array(n);
  const perItem: Record<string, number> = {};
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) { a[i] = actual[i * K + k]; p[i] = predicted[i * K + k]; }
    perItem[items[k]] = metric(a, p);
  }
  return summarizeItems(perItem, ddof);
}

/** "0.512 (0.081)": a mean (SD) cell for a table; "–" for NaN. */
export function formatMeanSd(s: Pick<MeanSd, 'mean' | 'sd'>, digits = 3): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  return `${f(s.mean)} (${f(s.sd)})`;
}
