/** 0/1 items: balanced accuracy, AUC and F1 beside CCC, checked against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/eval/metrics.js';
import { binaryScores, evaluatePredictions } from '../../src/eval/evaluate.js';
import { renderEvaluation } from '../../src/eval/render.js';
import type { Dataset } from '../../src/data/dataset.js';

describe('binary items', () => {
  // Positives score 0.9, 0.6, 0.4; negatives 0.7, 0.2, 0.1, 0.3, 0.5.
  const actual = [1, 1, 1, 0, 0, 0, 0, 0];
  const score = [0.9, 0.6, 0.4, 0.7, 0.2, 0.1, 0.3, 0.5];

  it('AUC: the share of (positive, negative) pairs ranked right, ties ½', () => {
    // 0.9 beats 5 negatives, 0.6 beats 4, 0.4 beats 3: 12 of 15 pairs.
    expect(rocAuc(actual, score)).toBeCloseTo(12 / 15, 12);
    // pos {0.5, 0.8}, neg {0.5, 0.2}: ½ + 1 + 1 + 1 of 4.
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.2])).toBeCloseTo(3.5 / 4, 12);
    expect(rocAuc([1, 1, NaN, 0], [0.2, 0.3, 0.9, 0.1])).toBe(1);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });

  it('balanced accuracy and F1 at a threshold of ½', () => {
    // Classes ≥ ½: 1 1 0 1 0 0 0 1 → TP 2, FN 1, FP 2, TN 3.
    const b = binaryScores(actual, score)!;
    expect(b.balancedAccuracy).toBeCloseTo((2 / 3 + 3 / 5) / 2, 12);
    expect(b.f1).toBeCloseTo(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3), 12); // precision 2/4, recall 2/3
    expect(b.auc).toBeCloseTo(0.8, 12);
    expect(binaryScores([0, 0.5, 1], [0.1, 0.5, 0.9])).toBeUndefined();
    expect(binaryScores([NaN, NaN], [0.1, 0.9])).toBeUndefined();
  });

  it('evaluate reports them for 0/1 items only, beside CCC', () => {
    const n = actual.length;
    // Item "sad" is 0/1; item "mood" (0–100) is not.
    const labels = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) { labels[i * 2] = actual[i]; labels[i * 2 + 1] = i / (n - 1); }
    const ds = {
      items: [{ id: 'sad', min: 0, max: 1 }, { id: 'mood', min: 0, max: 100 }], channels: [], windowEpochs: 1, speechFeatures: [],
      participantIds: ['a', 'b'], n, participant: Int32Array.from({ length: n }, (_, i) => i % 2), reportIds: actual.map((_, i) => `r${i}`),
      time: new Float64Array(n), localHour: new Float32Array(n), trigger: actual.map(() => 'scheduled'), labels,
      activity: new Float32Array(0), speech: new Float32Array(0), modalityMask: new Uint8Array(n),
    } satisfies Dataset;
    const pred = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) { pred[i * 2] = score[i]; pred[i * 2 + 1] = 0.5; }
    const e = evaluatePredictions(ds, Int32Array.from({ length: n }, (_, i) => i), pred, { B: 20 });
    expect(e.items.sad.binary!.auc).toBeCloseTo(0.8, 6);
    expect(e.items.sad.binary!.balancedAccuracy).toBeCloseTo((2 / 3 + 3 / 5) / 2, 6);
    expect(e.items.mood.binary).toBeUndefined();
    expect(renderEvaluation(e, 't')).toMatch(/0\/1 items[\s\S]*sad\s*│?\s*0\.633\s*│?\s*0\.800\s*│?\s*0\.571/);
  });
});
