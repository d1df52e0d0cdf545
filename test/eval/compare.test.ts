import { describe, it, expect } from 'vitest';
import { pairedCccComparison } from '../../src/eval/compare.js';
import { itemCccWithCI } from '../../src/eval/bootstrap.js';
import { ccc } from '../../src/eval/metrics.js';
import { Rng } from '../../src/util/random.js';

/** G participants × m rows, K items: labels = person offset + signal; predictions = truth + noise of the given SD. */
function study(G: number, m: number, K: number, seed: number) {
  const r = new Rng(seed);
  const participant: number[] = [], actual: number[] = [];
  for (let g = 0; g < G; g++) {
    const off = Array.from({ length: K }, () => r.normal(0.5, 0.1));
    for (let j = 0; j < m; j++) { participant.push(g); for (let k = 0; k < K; k++) actual.push(off[k] + r.normal(0, 0.1)); }
  }
  const noisy = (sd: number, rr = new Rng(seed + 100 + sd * 1000)) => actual.map((v) => v + rr.normal(0, sd));
  return { participant, actual, noisy, items: Array.from({ length: K }, (_, k) => `item${k}`) };
}

describe('pairedCccComparison', () => {
  it('identical models: every difference is exactly 0, the CI is [0, 0] and A never beats B', () => {
    const s = study(40, 8, 3, 1);
    const p = s.noisy(0.08);
    const c = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: p, predictedB: p }, { B: 300 });
    expect(c.mean.diff).toBe(0);
    expect(c.mean.ciLow).toBe(0);
    expect(c.mean.ciHigh).toBe(0);
    expect(c.mean.shareAGreater).toBe(0);
    for (const r of Object.values(c.items)) { expect(r.diff).toBe(0); expect(r.a).toBe(r.b); }
    expect(c.participants).toBe(40);
  });

  it('two equally noisy models: the CI of the difference contains 0', () => {
    const s = study(60, 8, 3, 2);
    const c = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: s.noisy(0.1, new Rng(7)), predictedB: s.noisy(0.1, new Rng(8)) }, { B: 500 });
    expect(c.mean.ciLow).toBeLessThan(0);
    expect(c.mean.ciHigh).toBeGreaterThan(0);
    expect(c.mean.shareAGreater).toBeGreaterThan(0.025);
    expect(c.mean.shareAGreater).toBeLessThan(0.975);
  });

  it('truth + small noise beats truth + big noise: CI above 0, A wins in (nearly) every resample; swapping A and B mirrors it', () => {
    const s = study(50, 10, 4, 3);
    const good = s.noisy(0.03), bad = s.noisy(0.2);
    const c = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: good, predictedB: bad }, { B: 400 });
    expect(c.mean.diff).toBeGreaterThan(0.1);
    expect(c.mean.ciLow).toBeGreaterThan(0);
    expect(c.mean.shareAGreater).toBeGreaterThan(0.99);
    for (const r of Object.values(c.items)) expect(r.ciLow).toBeGreaterThan(0);
    const sw = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: bad, predictedB: good }, { B: 400 });
    expect(sw.mean.diff).toBeCloseTo(-c.mean.diff, 12);
    expect(sw.mean.ciHigh).toBeCloseTo(-c.mean.ciLow, 12);
    expect(sw.mean.shareAGreater).toBeLessThan(0.01);
  });

  it('estimates are the plain CCCs, and the paired CI is narrower than the marginal CIs suggest', () => {
    const s = study(50, 10, 3, 4);
    // B: A plus a little extra noise — correlated errors, so the pairing matters.
    const a = s.noisy(0.08), b = a.map((v, i) => v + new Rng(i + 1).normal(0, 0.03));
    const K = s.items.length, n = s.participant.length;
    const c = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: a, predictedB: b }, { B: 500, seed: 3 });
    for (let k = 0; k < K; k++) {
      const col = (v: number[]) => Array.from({ length: n }, (_, i) => v[i * K + k]);
      expect(c.items[s.items[k]].a).toBeCloseTo(ccc(col(s.actual), col(a)), 10);
      expect(c.items[s.items[k]].b).toBeCloseTo(ccc(col(s.actual), col(b)), 10);
    }
    // The marginal intervals from the same resamples (same seed) match the evaluator's.
    const ma = itemCccWithCI({ participant: s.participant, items: s.items, actual: s.actual, predicted: a }, { B: 500, seed: 3 });
    const mb = itemCccWithCI({ participant: s.participant, items: s.items, actual: s.actual, predicted: b }, { B: 500, seed: 3 });
    expect(c.mean.a).toBeCloseTo(ma.mean.estimate, 10);
    const marginalOverlap = Math.min(ma.mean.upper, mb.mean.upper) - Math.max(ma.mean.lower, mb.mean.lower);
    expect(marginalOverlap).toBeGreaterThan(0); // marginal CIs overlap …
    expect(c.mean.ciLow).toBeGreaterThan(0);    // … yet A is better in the paired comparison
    expect(c.mean.ciHigh - c.mean.ciLow).toBeLessThan((ma.mean.upper - ma.mean.lower) / 2);
  });

  it('missing labels or predictions are left out of both models; bad shapes are refused', () => {
    const s = study(20, 6, 2, 5);
    const a = s.noisy(0.05), b = s.noisy(0.1);
    a[0] = NaN; s.actual[3] = NaN;
    const c = pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: a, predictedB: b }, { B: 100 });
    expect(c.items.item0.n).toBe(s.participant.length - 1);
    expect(c.items.item1.n).toBe(s.participant.length - 1);
    expect(Number.isFinite(c.mean.diff)).toBe(true);
    expect(() => pairedCccComparison({ participant: s.participant, items: s.items, actual: s.actual, predictedA: a.slice(1), predictedB: b })).toThrow(/predictedA/);
  });
});

describe('moodlens compare (CLI) on experiment run files', () => {
  it('matches instances by report id, reads labels from the study and finds the better model', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { synthesizeStudy } = await import('../../src/synth/index.js');
    const { buildDataset } = await import('../../src/data/index.js');
    const { run } = await import('../../src/cli/main.js');
    const dir = mkdtempSync(join(tmpdir(), 'compare-'));
    const study = join(dir, 'study');
    await synthesizeStudy({ out: study, participants: 6, days: 4, seed: 3 });
    const { dataset: ds } = await buildDataset(study, { policy: 'masked', progress: false });
    const K = ds.items.length, items = ds.items.map((it) => it.id);
    const rows = Array.from({ length: ds.n }, (_, i) => i);
    const r = new Rng(9);
    const runFile = (name: string, sd: number, order: number[]) => {
      const predicted: (number | null)[] = [];
      for (const i of order) for (let k = 0; k < K; k++) { const y = ds.labels[i * K + k]; predicted.push(Number.isNaN(y) ? 0.5 : y + r.normal(0, sd)); }
      const path = join(dir, `${name}.json`);
      writeFileSync(path, JSON.stringify({ key: `${name}|1`, test: { reportIds: order.map((i) => ds.reportIds[i]), items, predicted } }));
      return path;
    };
    // A predicts every report (in reverse order), B all but the first: the compared set is B's.
    const a = runFile('good', 0.02, [...rows].reverse()), b = runFile('bad', 0.25, rows.slice(1));
    const logs: string[] = [];
    const orig = console.log;
    console.log = (...x: unknown[]) => { logs.push(x.join(' ')); };
    process.env.MOODLENS_QUIET = '1';
    let code: number;
    try { code = await run(['compare', '--study', study, '--model', a, '--model', b, '--json', '--bootstrap', '200']); } finally { console.log = orig; }
    expect(code).toBe(0);
    const out = JSON.parse(logs.join('\n'));
    expect(out.n).toBe(ds.n - 1);
    expect(out.dropped).toBe(1);
    expect(out.participants).toBe(new Set(ds.participant).size);
    expect(out.mean.a).toBeGreaterThan(0.9);
    expect(out.mean.ciLow).toBeGreaterThan(0);
    // A run file with a missing field is refused with the file and field named.
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ key: 'x|1' }));
    const errs: string[] = [];
    const origErr = console.error;
    console.error = (...x: unknown[]) => { errs.push(x.join(' ')); };
    try { code = await run(['compare', '--study', study, '--model', join(dir, 'broken.json'), '--model', b]); } finally { console.error = origErr; }
    expect(code).toBe(1);
    expect(errs.join('\n')).toMatch(/broken\.json.*test/s);
  }, 60_000);
});
