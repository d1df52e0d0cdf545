/**
 * Split-conformal prediction intervals (Lei et al. 2018), one per item, calibrated on the
 * development set: with absolute residuals r_i = |y_i − ŷ_i| of the n labelled dev instances,
 *   q = the ⌈(n + 1)(1 − α)⌉-th smallest r_i  (∞ when that rank exceeds n),
 * and the interval [ŷ − q, ŷ + q] (clipped to the label range) covers a new report with
 * probability ≥ 1 − α when dev and test are exchangeable. Values on the [0,1] label scale. Pure.
 */
export interface Conformal { alpha: number; items: string[]; halfWidth: number[]; n: number[] }

export function conformalQuantile(residuals: number[], alpha: number): number {
  const n = residuals.length;
  const rank = Math.ceil((n + 1) * (1 - alpha));
  if (n === 0 || rank > n) return Infinity;
  return [...residuals].sort((a, b) => a - b)[rank - 1];
}

/** actual, predicted: n × K row-major, NaN = missing label. */
export function fitConformal(actual: ArrayLike<number>, predicted: ArrayLike<number>, items: string[], alpha: number): Conformal {
  const K = items.length, n = actual.length / K;
  const halfWidth: number[] = [], counts: number[] = [];
  for (let k = 0; k < K; k++) {
    const r: number[] = [];
    for (let i = 0; i < n; i++) {
      const y = actual[i * K + k], p = predicted[i * K + k];
      if (!Number.isNaN(y) && !Number.isNaN(p)) r.push(Math.abs(y - p));
    }
    halfWidth.push(conformalQuantile(r, alpha)); counts.push(r.length);
  }
  return { alpha, items, halfWidth, n: counts };
}

/** [lower, upper] for item k around prediction p, clipped to [lo, hi]. */
export function conformalInterval(c: Conformal, k: number, p: number, lo = 0, hi = 1): [number, number] {
  const q = c.halfWidth[k] ?? Infinity; // JSON stores ∞ as null
  return [Math.max(lo, p - q), Math.min(hi, p + q)];
}
