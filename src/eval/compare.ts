/**
 * Paired comparison of two models on the same test instances (issue #3: "A beats B by more than
 * the bootstrap CI"). Two marginal CIs that overlap do not say the models are equal, and two that
 * are disjoint are a needlessly strict test: the two models' errors on the same reports are
 * correlated. The paired participant bootstrap answers the question directly: each replicate
 * draws G participants with replacement (the resampling unit, as in `bootstrap.ts`), recomputes
 * each model's per-item CCC and the mean over items on that SAME resample, and takes A − B.
 * The result per item and for the mean: both estimates, the difference, its percentile interval
 * and the share of replicates in which A > B.
 *
 * Replicates are computed from per-participant sums (n, Σx, Σa, Σb, Σx², Σa², Σb², Σxa, Σxb of
 * the rows where the label and both predictions are present), so B = 2000 on 300 participants
 * takes milliseconds. Pure; browser-safe.
 */
import { resampleGroups, groupRows, type BootstrapOptions } from './bootstrap.js';
import { meanSd } from './summary.js';

export interface PairedInput {
  /** Per row: its participant (the resampling unit). */
  participant: ArrayLike<string | number>;
  items: readonly string[];
  /** n × K row-major labels; NaN = unanswered. */
  actual: ArrayLike<number>;
  /** n × K predictions of model A and of model B for the same rows; NaN = no prediction. */
  predictedA: ArrayLike<number>;
  predictedB: ArrayLike<number>;
}

export interface PairedResult {
  /** CCC of A and of B on the original rows. */
  a: number; b: number;
  /** a − b, and the percentile interval of the replicate differences. */
  diff: number; ciLow: number; ciHigh: number;
  /** Bootstrap SE of the difference. */
  se: number;
  /** Share of (finite) replicates with A > B. */
  shareAGreater: number;
  /** Rows used (label and both predictions present); for the mean, all rows. */
  n: number;
}

export interface PairedComparison {
  items: Record<string, PairedResult>;
  mean: PairedResult;
  participants: number;
  B: number; level: number; seed: number;
}

/** CCC from n, Σx, Σy, Σx², Σy², Σxy starting at `o` with the y block at offsets (y, yy, xy). */
function ccc6(n: number, sx: number, sy: number, sxx: number, syy: number, sxy: number): number {
  if (n < 2) return NaN;
  const mx = sx / n, my = sy / n;
  const vx = Math.max(0, sxx / n - mx * mx), vy = Math.max(0, syy / n - my * my);
  const den = vx + vy + (mx - my) ** 2;
  return den <= 1e-13 * (sxx / n + syy / n) ? NaN : (2 * (sxy / n - mx * my)) / den;
}

const S = 9; // n, Σx, Σa, Σb, Σx², Σa², Σb², Σxa, Σxb

/**
 * Paired participant bootstrap of CCC(A) − CCC(B) per item and of the difference of the mean CCC
 * over items. Defaults: B = 2000, seed 1, level 0.95.
 */
export function pairedCccComparison(input: PairedInput, opts: BootstrapOptions = {}): PairedComparison {
  const { participant, items, actual, predictedA, predictedB } = input;
  const K = items.length, n = participant.length;
  if (K === 0) throw new RangeError('pairedCccComparison: no items');
  for (const [name, v] of [['actual', actual], ['predictedA', predictedA], ['predictedB', predictedB]] as const) {
    if (v.length !== n * K) throw new RangeError(`pairedCccComparison: ${name} must hold ${n} rows × ${K} items = ${n * K} values (got ${v.length})`);
  }
  const B = opts.B ?? 2000, seed = opts.seed ?? 1, level = opts.level ?? 0.95;
  const members = groupRows(participant), G = members.length;
  // Centre on each item's label mean (moments are shift-invariant) to keep raw sums well conditioned.
  const centre = new Float64Array(K), cnt = new Float64Array(K);
  const ok = (i: number, k: number) => !Number.isNaN(actual[i * K + k]) && !Number.isNaN(predictedA[i * K + k]) && !Number.isNaN(predictedB[i * K + k]);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) if (ok(i, k)) { centre[k] += actual[i * K + k]; cnt[k]++; }
  for (let k = 0; k < K; k++) centre[k] = cnt[k] ? centre[k] / cnt[k] : 0;
  const sums = new Float64Array(G * K * S);
  members.forEach((rows, g) => {
    for (const i of rows) for (let k = 0; k < K; k++) {
      if (!ok(i, k)) continue;
      const x = actual[i * K + k] - centre[k], a = predictedA[i * K + k] - centre[k], b = predictedB[i * K + k] - centre[k];
      const o = (g * K + k) * S;
      sums[o]++; sums[o + 1] += x; sums[o + 2] += a; sums[o + 3] += b;
      sums[o + 4] += x * x; sums[o + 5] += a * a; sums[o + 6] += b * b; sums[o + 7] += x * a; sums[o + 8] += x * b;
    }
  });
  const acc = new Float64Array(K * S);
  // Statistics: [A_1..A_K, meanA, B_1..B_K, meanB, (A−B)_1..K, meanA − meanB].
  const stat = (drawn: ArrayLike<number>): number[] => {
    acc.fill(0);
    for (let j = 0; j < drawn.length; j++) {
      const base = drawn[j] * K * S;
      for (let t = 0; t < K * S; t++) acc[t] += sums[base + t];
    }
    const ca: number[] = [], cb: number[] = [];
    for (let k = 0; k < K; k++) {
      const o = k * S;
      ca.push(ccc6(acc[o], acc[o + 1], acc[o + 2], acc[o + 4], acc[o + 5], acc[o + 7]));
      cb.push(ccc6(acc[o], acc[o + 1], acc[o + 3], acc[o + 4], acc[o + 6], acc[o + 8]));
    }
    // The mean over items that are finite for BOTH models, so the two means cover the same items.
    const both = ca.map((v, k) => Number.isFinite(v) && Number.isFinite(cb[k]));
    const ma = meanSd(ca.filter((_, k) => both[k])).mean, mb = meanSd(cb.filter((_, k) => both[k])).mean;
    return [...ca, ma, ...cb, mb, ...ca.map((v, k) => v - cb[k]), ma - mb];
  };
  const all = Int32Array.from({ length: G }, (_, g) => g);
  const ci = resampleGroups(G, stat(all), stat, { B, seed, level });
  const result = (k: number, rowsUsed: number): PairedResult => {
    const d = ci[2 * (K + 1) + k];
    let fin = 0, gt = 0;
    for (const v of d.replicates) if (Number.isFinite(v)) { fin++; if (v > 0) gt++; }
    return {
      a: ci[k].estimate, b: ci[K + 1 + k].estimate, diff: d.estimate, ciLow: d.lower, ciHigh: d.upper, se: d.se,
      shareAGreater: fin ? gt / fin : NaN, n: rowsUsed,
    };
  };
  const out: PairedComparison = { items: {}, mean: result(K, n), participants: G, B, level, seed };
  items.forEach((it, k) => { out.items[it] = result(k, cnt[k]); });
  return out;
}
