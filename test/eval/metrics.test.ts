import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  accuracy, balancedAccuracy, ccc, classificationReport, confusionMatrix, f1, mae, pearson,
  perClassScores, precision, recall, rmse,
} from '../../src/eval/metrics.js';

/** Reference numbers from bench/reference/metrics_reference.py (numpy); null = NaN. */
const ref = JSON.parse(readFileSync(new URL('../fixtures/reference/metrics.json', import.meta.url), 'utf8'));
const nums = (a: (number | null)[]) => Float64Array.from(a, (v) => (v === null ? NaN : v));
const close = (got: number, want: number | null, digits = 12) => {
  if (want === null) expect(got).toBeNaN();
  else expect(got).toBeCloseTo(want, digits);
};

describe('regression metrics against numpy', () => {
  for (const [name, c] of Object.entries<any>(ref.regression)) {
    it(name, () => {
      const a = nums(c.actual), p = nums(c.predicted);
      close(ccc(a, p), c.ccc);
      close(pearson(a, p), c.pearson);
      close(mae(a, p), c.mae);
      close(rmse(a, p), c.rmse);
    });
  }

  it('has the documented edge-case values', () => {
    const r = ref.regression;
    expect(ccc(nums(r.identical.actual), nums(r.identical.predicted))).toBeCloseTo(1, 14);
    expect(ccc(nums(r.anti_concordant_centred.actual), nums(r.anti_concordant_centred.predicted))).toBeCloseTo(-1, 14);
    expect(ccc(nums(r.anti_concordant_mirrored.actual), nums(r.anti_concordant_mirrored.predicted))).toBeCloseTo(-1, 12);
    // A shift keeps Pearson at 1 but CCC below 1 (it penalises the bias).
    const s = r.shifted_plus_5;
    expect(pearson(nums(s.actual), nums(s.predicted))).toBeCloseTo(1, 12);
    expect(ccc(nums(s.actual), nums(s.predicted))).toBeLessThan(1);
    expect(ccc([1], [2])).toBeNaN();
    expect(ccc([], [])).toBeNaN();
    expect(ccc([3, 3, 3], [3, 3, 3])).toBeNaN();
    expect(ccc([3, 3, 3], [4, 4, 4])).toBe(0);
    expect(pearson([3, 3, 3], [1, 2, 3])).toBeNaN();
  });

  it('skips NaN pairs: same as computing on the complete pairs only', () => {
    const c = ref.regression.nan_skipping;
    const a = nums(c.actual), p = nums(c.predicted);
    const keep = [...a.keys()].filter((i) => !Number.isNaN(a[i]) && !Number.isNaN(p[i]));
    expect(ccc(a, p)).toBe(ccc(keep.map((i) => a[i]), keep.map((i) => p[i])));
  });

  it('rejects arrays of different length', () => {
    expect(() => ccc([1, 2], [1])).toThrow(RangeError);
  });
});

describe('classification metrics against numpy/scikit-learn', () => {
  for (const [name, c] of Object.entries<any>(ref.classification)) {
    it(name, () => {
      const a = c.actual, p = c.predicted;
      const cm = confusionMatrix(a, p);
      expect(cm.labels).toEqual(c.labels);
      expect(cm.matrix).toEqual(c.confusion);
      close(accuracy(a, p), c.accuracy);
      close(balancedAccuracy(a, p), c.balancedAccuracy);
      for (const avg of ['micro', 'macro'] as const) {
        close(precision(a, p, { average: avg }), c.precision[avg]);
        close(recall(a, p, { average: avg }), c.recall[avg]);
        close(f1(a, p, { average: avg }), c.f1[avg]);
      }
      const pc = perClassScores(a, p);
      pc.precision.forEach((v, k) => close(v, c.perClass.precision[k]));
      pc.recall.forEach((v, k) => close(v, c.perClass.recall[k]));
      pc.f1.forEach((v, k) => close(v, c.perClass.f1[k]));
      expect(pc.support).toEqual(c.perClass.support);
      const rep = classificationReport(a, p);
      close(rep.f1.macro, c.f1.macro);
      expect(rep.n).toBe(a.length);
    });
  }

  it('binary scores of the positive class', () => {
    const c = ref.classification.binary;
    close(precision(c.actual, c.predicted, { average: 'binary' }), c.binaryPositive1.precision);
    close(recall(c.actual, c.predicted, { average: 'binary' }), c.binaryPositive1.recall);
    close(f1(c.actual, c.predicted, { average: 'binary', positive: 1 }), c.binaryPositive1.f1);
  });

  it('micro F1 equals accuracy for single-label data; missing labels are skipped', () => {
    const c = ref.classification.multiclass;
    expect(f1(c.actual, c.predicted, { average: 'micro' })).toBeCloseTo(accuracy(c.actual, c.predicted), 14);
    expect(accuracy([1, NaN, 2, null, 3], [1, 2, 2, 3, 0])).toBeCloseTo(2 / 3, 14);
    expect(accuracy([], [])).toBeNaN();
  });
});
