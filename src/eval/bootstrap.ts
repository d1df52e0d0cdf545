/**
 * Cluster (participant) bootstrap confidence intervals. Reports of one participant are not
 * independent, so the resampling unit is the participant: each replicate draws G participants
 * with replacement out of the G present and keeps all of each drawn participant's rows
 * (a participant drawn twice contributes its rows twice). The interval is the percentile
 * interval of the replicate statistics:
 *   [Q((1 − level)/2), Q((1 + level)/2)],  Q = linear-interpolation quantile (numpy's default).
 * Seeded with the project's Rng, so every interval is reproducible. Pure; browser-safe.
 */
import { Rng } from '../util/random.js';
import { ccc, type RegressionMetric } from './metrics.js';
import { meanSd } from './summary.js';

export interface BootstrapOptions {
  /** Number of bootstrap replicates (default 1000). */
  B?: number;
  /** Seed of the resampling (default 1). */
  seed?: number;
  /** Confidence level of the percentile interval (default 0.95). */
  level?: number;
}

export interface BootstrapInterval {
  /** The statistic on the original data. */
  estimate: number;
  lower: number;
  upper: number;
  /** Bootstrap standard error: SD (n − 1) of the finite replicates. */
  se: number;
  level: number;
  B: number;
  /** Replicates whose statistic was finite (NaN replicates, e.g. a constant resample, are dropped). */
  nValid: number;
  /** The B replicate statistics in drawing order (NaN kept). */
  replicates: Float64Array;
}

/** Row indices of each group, groups in order of first appearance. */
export function groupRows(groups: ArrayLike<string | number>): Int32Array[] {
  const byKey = new Map<string | number, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    let rows = byKey.get(g);
    if (!rows) { rows = []; byKey.set(g, rows); }
    rows.push(i);
  }
  return [...byKey.values()].map((r) => Int32Array.from(r));
}

/**
 * Bootstrap a vector-valued statistic by resampling groups. `statFn(rows)` receives the row
 * indices of one resample (or of the original data, 0..n−1) and returns its statistics; every
 * replicate must return the same number of values. Returns one interval per value.
 */
export function bootstrapByGroupVector(
  groups: ArrayLike<string | number>,
  statFn: (rows: Int32Array) => ArrayLike<number>,
  opts: BootstrapOptions = {},
): BootstrapInterval[] {
  const members = groupRows(groups);
  const all = Int32Array.from({ length: groups.length }, (_, i) => i);
  let rows = new Int32Array(groups.length);
  return resampleGroups(members.length, statFn(all), (drawn) => {
    let len = 0;
    for (let j = 0; j < drawn.length; j++) len += members[drawn[j]].length;
    if (rows.length !== len) rows = new Int32Array(len);
    let o = 0;
    for (let j = 0; j < drawn.length; j++) { rows.set(members[drawn[j]], o); o += members[drawn[j]].length; }
    return statFn(rows);
  }, opts);
}

/**
 * The resampling loop shared by every participant bootstrap: B times, draw G group indices
 * uniformly with replacement (Rng(seed).int(G), G times) and evaluate `replicate(drawn)`;
 * then the percentile interval of each statistic around `estimate`.
 */
export function resampleGroups(
  G: number,
  estimate: ArrayLike<number>,
  replicate: (drawn: Int32Array) => ArrayLike<number>,
  opts: BootstrapOptions = {},
): BootstrapInterval[] {
  const B = opts.B ?? 1000, seed = opts.seed ?? 1, level = opts.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`bootstrap: B must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must be in (0, 1), got ${level}`);
  if (G < 1) throw new RangeError('bootstrap: no groups');
  const S = estimate.length;
  const reps = Array.from({ length: S }, () => new Float64Array(B));
  const rng = new Rng(seed);
  const drawn = new Int32Array(G);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < G; j++) drawn[j] = rng.int(G);
    const v = replicate(drawn);
    if (v.length !== S) throw new RangeError(`bootstrap: the statistic returned ${v.length} values, expected ${S}`);
    for (let s = 0; s < S; s++) reps[s][b] = v[s];
  }
  const a = (1 - level) / 2;
  return Array.from(estimate, (est, s) => {
    const finite = Float64Array.from(reps[s].filter(Number.isFinite)).sort();
    return {
      estimate: est,
      lower: quantileSorted(finite, a),
      upper: quantileSorted(finite, 1 - a),
      se: meanSd(finite).sd,
      level, B,
      nValid: finite.length,
      replicates: reps[s],
    };
  });
}

/** Bootstrap a scalar statistic by resampling groups (see `bootstrapByGroupVector`). */
export function bootstrapByGroup(
  groups: ArrayLike<string | number>,
  statFn: (rows: Int32Array) => number,
  opts: BootstrapOptions = {},
): BootstrapInterval {
  return bootstrapByGroupVector(groups, (rows) => [statFn(rows)], opts)[0];
}

/**
 * Quantile of sorted values by linear interpolation between order statistics
 * (Hyndman–Fan type 7, numpy's default): h = (m − 1)q, Q = x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = (m - 1) * q, lo = Math.floor(h), hi = Math.min(lo + 1, m - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface ItemMetricInput {
  /** Per row: the participant it belongs to (the resampling unit). */
  participant: ArrayLike<string | number>;
  items: readonly string[];
  /** n × K row-major (K = items.length; a plain vector for K = 1); NaN = missing. */
  actual: ArrayLike<number>;
  predicted: ArrayLike<number>;
}

export interface ItemMetricWithCI {
  /** Per item: the metric with its participant-bootstrap interval. */
  items: Record<string, BootstrapInterval>;
  /** Mean over items (finite items only) of the metric, with its interval from the same resamples. */
  mean: BootstrapInterval;
  /** SD (n − 1) over items of the original per-item values. */
  sd: number;
}

/**
 * Per-item CCC (or another metric) with participant-bootstrap CIs, and the mean over items with
 * its CI. All items share the same resamples, so the mean's interval is coherent.
 */
export function itemMetricWithCI(
  input: ItemMetricInput,
  opts: BootstrapOptions & { metric?: RegressionMetric } = {},
): ItemMetricWithCI {
  const { participant, items, actual, predicted } = input;
  const metric = opts.metric ?? ccc;
  const K = items.length, n = participant.length;
  if (K === 0) throw new RangeError('itemMetricWithCI: no items');
  if (actual.length !== n * K || predicted.length !== n * K) {
    throw new RangeError(`itemMetricWithCI: actual/predicted must hold ${n} rows × ${K} items = ${n * K} values (got ${actual.length}, ${predicted.length})`);
  }
  let a = new Float64Array(n), p = new Float64Array(n);
  const stat = (rows: Int32Array): number[] => {
    if (a.length !== rows.length) { a = new Float64Array(rows.length); p = new Float64Array(rows.length); }
    const out: number[] = [];
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < rows.length; i++) { a[i] = actual[rows[i] * K + k]; p[i] = predicted[rows[i] * K + k]; }
      out.push(metric(a, p));
    }
    out.push(meanSd(out).mean);
    return out;
  };
  const ci = bootstrapByGroupVector(participant, stat, opts);
  const perItem: Record<string, BootstrapInterval> = {};
  items.forEach((it, k) => { perItem[it] = ci[k]; });
  return { items: perItem, mean: ci[K], sd: meanSd(ci.slice(0, K).map((c) => c.estimate)).sd };
}

/**
 * Per-item CCC with participant-bootstrap CIs: the same numbers as
 * `itemMetricWithCI(input, { metric: ccc })` (same resamples), computed from per-participant
 * sums. CCC depends on the data only through n, Σx, Σy, Σx², Σy², Σxy of the complete pairs, so a
 * replicate adds G participants' sums instead of re-reading every row: O(B·G·K), not O(B·n·K).
 * Values are centred on each item's mean of `actual` first (moments are shift-invariant when x
 * and y shift together), which keeps the raw-sum formulas free of cancellation.
 */
export function itemCccWithCI(input: ItemMetricInput, opts: BootstrapOptions = {}): ItemMetricWithCI {
  const { participant, items, actual, predicted } = input;
  const K = items.length, n = participant.length;
  if (K === 0) throw new RangeError('itemCccWithCI: no items');
  if (actual.length !== n * K || predicted.length !== n * K) {
    throw new RangeError(`itemCccWithCI: actual/predicted must hold ${n} rows × ${K} items = ${n * K} values (got ${actual.length}, ${predicted.length})`);
  }
  const members = groupRows(participant), G = members.length;
  const centre = new Float64Array(K), count = new Float64Array(K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) {
    const x = actual[i * K + k], y = predicted[i * K + k];
    if (!Number.isNaN(x) && !Number.isNaN(y)) { centre[k] += x; count[k]++; }
  }
  for (let k = 0; k < K; k++) centre[k] = count[k] > 0 ? centre[k] / count[k] : 0;
  // sums[(g·K + k)·6 + j]: j = n, Σx, Σy, Σx², Σy², Σxy of participant g, item k.
  const sums = new Float64Array(G * K * 6);
  members.forEach((rows, g) => {
    for (const i of rows) for (let k = 0; k < K; k++) {
      const x = actual[i * K + k] - centre[k], y = predicted[i * K + k] - centre[k];
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      const o = (g * K + k) * 6;
      sums[o]++; sums[o + 1] += x; sums[o + 2] += y; sums[o + 3] += x * x; sums[o + 4] += y * y; sums[o + 5] += x * y;
    }
  });
  const acc = new Float64Array(K * 6);
  const stat = (drawn: ArrayLike<number>): number[] => {
    acc.fill(0);
    for (let j = 0; j < drawn.length; j++) {
      const base = drawn[j] * K * 6;
      for (let t = 0; t < K * 6; t++) acc[t] += sums[base + t];
    }
    const out: number[] = [];
    for (let k = 0; k < K; k++) out.push(cccFromSums(acc, k * 6));
    out.push(meanSd(out).mean);
    return out;
  };
  const ci = resampleGroups(G, stat(Int32Array.from({ length: G }, (_, g) => g)), stat, opts);
  const perItem: Record<string, BootstrapInterval> = {};
  items.forEach((it, k) => { perItem[it] = ci[k]; });
  return { items: perItem, mean: ci[K], sd: meanSd(ci.slice(0, K).map((c) => c.estimate)).sd };
}

/** CCC = 2·cov / (σx² + σy² + (μx − μy)²) from n, Σx, Σy, Σx², Σy², Σxy (population moments). */
function cccFromSums(s: Float64Array, o: number): number {
  const n = s[o];
  if (n < 2) return NaN;
  const mx = s[o + 1] / n, my = s[o + 2] / n;
  const vx = Math.max(0, s[o + 3] / n - mx * mx), vy = Math.max(0, s[o + 4] / n - my * my);
  const cxy = s[o + 5] / n - mx * my;
  const den = vx + vy + (mx - my) ** 2;
  // A denominator at rounding level of the raw second moments is a zero one (constant vectors).
  return den <= 1e-13 * (s[o + 3] / n + s[o + 4] / n) ? NaN : (2 * cxy) / den;
}

/**
 * Paired comparison of two statistics bootstrapped with the same resamples (same groups, B and
 * seed — e.g. the mean CCC of two models from `itemCccWithCI` on the same participants): the
 * percentile interval of the replicate differences a − b. An interval excluding 0 says the
 * ordering of the two holds across resamples of participants.
 */
export function differenceInterval(a: BootstrapInterval, b: BootstrapInterval): BootstrapInterval {
  if (a.B !== b.B || a.level !== b.level || a.replicates.length !== b.replicates.length) {
    throw new RangeError('differenceInterval: the two intervals must come from the same resamples (same B, level and seed)');
  }
  const replicates = a.replicates.map((v, i) => v - b.replicates[i]);
  const finite = Float64Array.from(replicates.filter(Number.isFinite)).sort();
  const q = (1 - a.level) / 2;
  return {
    estimate: a.estimate - b.estimate,
    lower: quantileSorted(finite, q),
    upper: quantileSorted(finite, 1 - q),
    se: meanSd(finite).sd,
    level: a.level, B: a.B, nValid: finite.length, replicates,
  };
}
