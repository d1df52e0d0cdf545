import { describe, it, expect } from 'vitest';
import { pooledComparison, type RunPredictions } from '../../src/amm/experiment.js';

/** A run of 2 seeds over 40 test rows of 8 participants; arm "good" right on `hit` of the rows, "base" on half. */
function run(hit: number, seedShift: number): RunPredictions {
  const n = 40;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const participant = Array.from({ length: n }, (_, i) => `p${i % 8}`);
  const good: Record<string, number[]> = {}, base: Record<string, number[]> = {};
  for (const s of ['1', '2']) {
    good[s] = labels.map((y, i) => ((i * 7 + seedShift + Number(s)) % 100 < hit * 100 ? y : 1 - y));
    base[s] = labels.map((y, i) => (i % 4 < 2 ? y : 1 - y));
  }
  return { task: 'depressed', labels, participant, arms: { good, base, same: base } };
}

describe('pooling runs of the same arms across studies', () => {
  it('pairs predictions by (run, seed, row) and resamples (run, seed, participant) clusters', () => {
    const runs = [{ name: 'd1', predictions: run(0.9, 0) }, { name: 'd2', predictions: run(0.9, 3) }];
    const r = pooledComparison(runs, 'good', 'base', 300);
    expect(r.n).toBe(2 * 2 * 40);
    expect(r.worse.accuracy.estimate).toBeCloseTo(0.5, 10);
    expect(r.better.accuracy.estimate).toBeGreaterThan(0.8);
    expect(r.delta.accuracy.estimate).toBeCloseTo(r.better.accuracy.estimate - r.worse.accuracy.estimate, 10);
    expect(r.delta.accuracy.lower).toBeGreaterThan(0);
    const byRun = pooledComparison([...runs, { name: 'd3', predictions: run(0.8, 5) }], 'good', 'base', 300, 'run');
    expect(byRun.delta.accuracy.lower).toBeGreaterThan(0); // every run has good ahead
    expect(byRun.delta.accuracy.lower).toBeLessThanOrEqual(byRun.delta.accuracy.estimate);
    const same = pooledComparison(runs, 'same', 'base', 100);
    expect(same.delta.microF1.estimate).toBe(0);
    expect(same.delta.microF1.lower).toBe(0);
    expect(same.delta.microF1.upper).toBe(0);
  });
  it('names the run when an arm or a seed is missing', () => {
    const p = run(0.9, 0);
    expect(() => pooledComparison([{ name: 'd7', predictions: p }], 'good', 'nope')).toThrow(/d7: arms good and nope/);
    delete p.arms.base['2'];
    expect(() => pooledComparison([{ name: 'd7', predictions: p }], 'good', 'base')).toThrow(/d7: seed 2/);
  });
});
