import { describe, expect, it } from 'vitest';
import { fitLogistic, predictLogistic, fitStandardizer, standardize, unweightedAverageRecall } from '../../src/eval/logistic.js';
import { Rng } from '../../src/util/random.js';

describe('multinomial logistic regression (sklearn parametrisation)', () => {
  const rng = new Rng(9);
  const centers = [[0, 0, 0], [3, 0, 1], [0, 3, -1]];
  const X: Float64Array[] = []; const y: number[] = [];
  for (let i = 0; i < 300; i++) {
    const c = i % 3; y.push(c * 10); // non-contiguous labels
    X.push(Float64Array.from(centers[c], (m) => m + rng.normal(0, 1)));
  }

  it('reaches the optimum: C·Xᵀ(P − Y) + W = 0 and Σ(P − Y) = 0 for the intercepts', () => {
    const C = 0.5;
    const m = fitLogistic(X, y, { C, maxIter: 5000, tol: 1e-9 });
    const K = 3, d = 3; const gW = new Float64Array(K * d); const gb = new Float64Array(K);
    X.forEach((x, i) => {
      const z = [0, 1, 2].map((k) => m.b[k] + [0, 1, 2].reduce((s, j) => s + m.W[k * d + j] * x[j], 0));
      const mx = Math.max(...z); const e = z.map((v) => Math.exp(v - mx)); const s = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) {
        const r = e[k] / s - (m.classes[k] === y[i] ? 1 : 0);
        gb[k] += r; for (let j = 0; j < d; j++) gW[k * d + j] += C * r * x[j];
      }
    });
    for (let j = 0; j < K * d; j++) expect(Math.abs(gW[j] + m.W[j])).toBeLessThan(1e-4);
    for (let k = 0; k < K; k++) expect(Math.abs(gb[k])).toBeLessThan(1e-4);
  });

  it('a stronger penalty shrinks the weights; predictions recover the classes', () => {
    const norm = (C: number) => { const m = fitLogistic(X, y, { C }); return Math.hypot(...m.W); };
    expect(norm(0.01)).toBeLessThan(norm(1));
    const m = fitLogistic(X, y, { C: 0.5 });
    const pred = X.map((x) => predictLogistic(m, x));
    expect(unweightedAverageRecall(y, pred)).toBeGreaterThan(0.85);
  });

  it('standardises with training statistics and imputes missing values with the training mean', () => {
    const st = fitStandardizer([[1, 10], [3, NaN], [5, 30]]);
    expect(Array.from(st.mean)).toEqual([3, 20]);
    const z = standardize(st, [3, NaN]);
    expect(z[0]).toBe(0); expect(z[1]).toBe(0);
    expect(standardize(st, [5, 30])[0]).toBeCloseTo(2 / Math.sqrt(8 / 3), 10);
  });

  it('UAR is the mean of the per-class recalls', () => {
    // class 0: 3/4 right, class 1: 1/2 right
    expect(unweightedAverageRecall([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0])).toBeCloseTo((0.75 + 0.5) / 2, 12);
  });
});
