import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ccc } from '../../src/eval/metrics.js';
import { bootstrapByGroup, differenceInterval, groupRows, itemCccWithCI, itemMetricWithCI, quantileSorted } from '../../src/eval/bootstrap.js';
import { formatMeanSd, meanSd, perItemScores } from '../../src/eval/summary.js';

/** Reference from bench/reference/metrics_reference.py: numpy CCC and percentiles, and a Python
 *  port of the project's Rng, so the same participants are drawn in every replicate. */
const ref = JSON.parse(readFileSync(new URL('../fixtures/reference/metrics.json', import.meta.url), 'utf8'));
const nums = (a: (number | null)[]) => Float64Array.from(a, (v) => (v === null ? NaN : v));
const data = ref.items;
const input = { participant: data.participant as string[], items: data.names as string[], actual: nums(data.actual), predicted: nums(data.predicted) };

describe('per-item summaries', () => {
  it('per-item CCC and mean (SD) over items match numpy', () => {
    const s = perItemScores(input.items, input.actual, input.predicted);
    for (const it of input.items) expect(s.perItem[it]).toBeCloseTo(data.summary.perItem[it], 12);
    expect(s.mean).toBeCloseTo(data.summary.mean, 12);
    expect(s.sd).toBeCloseTo(data.summary.sd, 12);
    expect(s.n).toBe(3);
  });
  it('meanSd skips non-finite values and formats as a table cell', () => {
    const m = meanSd([1, 2, NaN, 3]);
    expect(m).toEqual({ mean: 2, sd: 1, n: 3 });
    expect(meanSd([5]).sd).toBeNaN();
    expect(meanSd([1, 3], 0).sd).toBe(1);
    expect(formatMeanSd({ mean: 0.51234, sd: 0.0812 })).toBe('0.512 (0.081)');
    expect(formatMeanSd({ mean: NaN, sd: NaN })).toBe('– (–)');
  });
});

describe('participant (cluster) bootstrap', () => {
  for (const [name, c] of Object.entries<any>(data.bootstrap)) {
    it(`per-item CCC intervals match the reference (${name})`, () => {
      const r = itemCccWithCI(input, { B: c.B, seed: c.seed, level: c.level });
      for (const it of input.items) {
        const got = r.items[it], want = c.items[it];
        expect(got.estimate).toBeCloseTo(want.estimate, 12);
        expect(got.lower).toBeCloseTo(want.lower, 10);
        expect(got.upper).toBeCloseTo(want.upper, 10);
        expect(got.se).toBeCloseTo(want.se, 10);
        expect(got.nValid).toBe(want.nValid);
        expect(got.lower).toBeLessThanOrEqual(got.upper);
      }
      expect(r.mean.estimate).toBeCloseTo(c.mean.estimate, 12);
      expect(r.mean.lower).toBeCloseTo(c.mean.lower, 10);
      expect(r.mean.upper).toBeCloseTo(c.mean.upper, 10);
      expect(r.sd).toBeCloseTo(data.summary.sd, 12);
    });
  }

  it('the fast per-participant-sums CCC path equals the generic row path, constant items included', () => {
    const n = input.participant.length;
    // add a 4th item whose actual and predicted are both constant 0.5 → CCC NaN everywhere
    const K = 4, a = new Float64Array(n * K), p = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) { a[i * K + k] = input.actual[i * 3 + k]; p[i * K + k] = input.predicted[i * 3 + k]; }
      a[i * K + 3] = 0.5; p[i * K + 3] = 0.5;
    }
    const inp = { participant: input.participant, items: [...input.items, 'const'], actual: a, predicted: p };
    const fast = itemCccWithCI(inp, { B: 100, seed: 5 });
    const slow = itemMetricWithCI(inp, { B: 100, seed: 5, metric: (x, y) => ccc(x, y) });
    for (const it of inp.items) {
      const f = fast.items[it], s = slow.items[it];
      if (it === 'const') { expect(f.estimate).toBeNaN(); expect(s.estimate).toBeNaN(); expect(f.nValid).toBe(0); continue; }
      expect(f.estimate).toBeCloseTo(s.estimate, 12);
      f.replicates.forEach((v, b) => expect(v).toBeCloseTo(s.replicates[b], 12));
    }
    expect(fast.mean.lower).toBeCloseTo(slow.mean.lower, 12);
  });

  it('resamples whole participants: every replicate holds complete participants', () => {
    const groups = ['a', 'a', 'b', 'c', 'c', 'c', 'b'];
    const members = groupRows(groups).map((r) => Array.from(r));
    expect(members).toEqual([[0, 1], [2, 6], [3, 4, 5]]);
    const seen: number[][] = [];
    bootstrapByGroup(groups, (rows) => { seen.push(Array.from(rows)); return rows.length; }, { B: 50, seed: 3 });
    expect(seen[0]).toEqual([0, 1, 2, 3, 4, 5, 6]); // the estimate on the original rows
    for (const rows of seen.slice(1)) {
      const count = new Map<string, number>();
      for (const i of rows) count.set(groups[i], (count.get(groups[i]) ?? 0) + 1);
      // a drawn participant contributes all its rows (a multiple of its size)
      for (const [g, k] of count) expect(k % groups.filter((h) => h === g).length).toBe(0);
    }
  });

  it('is reproducible by seed and narrows with more participants', () => {
    const make = (G: number) => {
      const participant: number[] = [], a: number[] = [], p: number[] = [];
      let s = 1;
      const u = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
      for (let g = 0; g < G; g++) for (let j = 0; j < 6; j++) { const x = u(); participant.push(g); a.push(x); p.push(x + 0.3 * (u() - 0.5)); }
      return { participant, a, p };
    };
    const small = make(10), big = make(200);
    const stat = (d: ReturnType<typeof make>) => (rows: Int32Array) => ccc(Array.from(rows, (i) => d.a[i]), Array.from(rows, (i) => d.p[i]));
    const r1 = bootstrapByGroup(small.participant, stat(small), { B: 300, seed: 9 });
    const r2 = bootstrapByGroup(small.participant, stat(small), { B: 300, seed: 9 });
    const r3 = bootstrapByGroup(small.participant, stat(small), { B: 300, seed: 10 });
    expect(r2.replicates).toEqual(r1.replicates);
    expect(r3.lower).not.toBe(r1.lower);
    const rb = bootstrapByGroup(big.participant, stat(big), { B: 300, seed: 9 });
    expect(rb.upper - rb.lower).toBeLessThan(r1.upper - r1.lower);
    expect(rb.lower).toBeLessThan(rb.estimate);
    expect(rb.upper).toBeGreaterThan(rb.estimate);
  });

  it('paired difference of two models on the same resamples', () => {
    const worse = Float64Array.from(input.predicted, (v, i) => (i % 2 ? v + 0.2 : v - 0.2)); // noisier predictions
    const a = itemCccWithCI(input, { B: 300, seed: 4 });
    const b = itemCccWithCI({ ...input, predicted: worse }, { B: 300, seed: 4 });
    const d = differenceInterval(a.mean, b.mean);
    expect(d.estimate).toBeCloseTo(a.mean.estimate - b.mean.estimate, 14);
    expect(d.replicates[7]).toBeCloseTo(a.mean.replicates[7] - b.mean.replicates[7], 14);
    expect(d.lower).toBeGreaterThan(0); // the better model stays better over resamples of participants
    expect(d.lower).toBeLessThan(d.upper);
    const c = itemCccWithCI(input, { B: 200, seed: 4 });
    expect(() => differenceInterval(a.mean, c.mean)).toThrow(RangeError);
  });

  it('drops NaN replicates and validates its options', () => {
    const r = bootstrapByGroup([1, 2, 3], (rows) => (rows.length && rows[0] === 0 ? NaN : 1), { B: 100, seed: 1 });
    expect(r.nValid).toBeLessThan(100);
    expect(r.lower).toBe(1);
    expect(() => bootstrapByGroup([1], () => 0, { B: 0 })).toThrow(RangeError);
    expect(() => bootstrapByGroup([1], () => 0, { level: 1 })).toThrow(RangeError);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
