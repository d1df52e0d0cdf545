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

/** Observed coverage of the split-conformal intervals at one nominal level 1 − α, per item. */
export interface Coverage { item: string; nominal: number; observed: number; n: number; halfWidth: number }

/**
 * Calibration of the intervals: for each nominal level, the intervals fitted on `cal` (the
 * development set, as training fits them) and the share of `test`'s answered reports they cover,
 * per item and pooled over items (item `pooled`). n × K row-major arrays on the [0,1] scale.
 */
export function coverageCurve(
  cal: { actual: ArrayLike<number>; predicted: ArrayLike<number> },
  test: { actual: ArrayLike<number>; predicted: ArrayLike<number> },
  items: string[], levels: number[], pooled = 'all items',
): Coverage[] {
  const K = items.length, n = test.actual.length / K, out: Coverage[] = [];
  for (const level of levels) {
    const c = fitConformal(cal.actual, cal.predicted, items, 1 - level);
    let allIn = 0, allN = 0;
    items.forEach((item, k) => {
      const q = c.halfWidth[k];
      let inside = 0, m = 0;
      for (let i = 0; i < n; i++) {
        const y = test.actual[i * K + k], p = test.predicted[i * K + k];
        if (Number.isNaN(y) || Number.isNaN(p)) continue;
        m++; if (Math.abs(y - p) <= q) inside++;
      }
      if (m) out.push({ item, nominal: level, observed: inside / m, n: m, halfWidth: q });
      allIn += inside; allN += m;
    });
    if (allN) out.push({ item: pooled, nominal: level, observed: allIn / allN, n: allN, halfWidth: NaN });
  }
  return out;
}
