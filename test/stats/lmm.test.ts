import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitLmm, fitMixedModel, type MixedModelFit } from '../../src/stats/lmm.js';
import { readCsv } from '../../src/util/csv.js';
import { UsageError } from '../../src/util/errors.js';

/** statsmodels MixedLM numbers from bench/reference/mixedlm_reference.py. */
const ref = JSON.parse(readFileSync(new URL('../fixtures/reference/mixedlm.json', import.meta.url), 'utf8'));
const SLEEP = resolve(process.cwd(), '../shared/data/sleepstudy.csv');

async function columns(path: string, names: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  for await (const row of readCsv(path)) for (const n of names) out[n].push(row.values[n]);
  return out;
}

/** |got − want| ≤ rel·|want| (+ abs for values near 0). */
function near(got: number, want: number, rel: number, abs = 0) {
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(rel * Math.abs(want) + abs);
}

/** Every quantity MixedLM's summary prints, to `rel` (3 significant digits is rel 5e-4). */
function expectLikeStatsmodels(fit: MixedModelFit, r: any, rel = 1e-4) {
  expect(fit.converged).toBe(true);
  expect(r.converged).toBe(true);
  expect(fit.nObs).toBe(r.nObs);
  expect(fit.nGroups).toBe(r.nGroups);
  for (const fe of fit.fixed) {
    const w = r.fixed[fe.name];
    near(fe.coef, w.coef, rel); near(fe.se, w.se, rel); near(fe.z, w.z, rel);
    near(fe.ciLow, w.ciLow, rel, rel * w.se); near(fe.ciHigh, w.ciHigh, rel, rel * w.se);
    // p to a relative 1 %: p is exponentially sensitive to z.
    near(fe.p, w.p, 1e-2, 1e-300); // scipy underflows to 0 below ~1e-308
  }
  const scaleOfCov = Math.max(...r.groupCov.map((row: number[], k: number) => row[k]));
  r.groupCov.forEach((row: number[], a: number) => row.forEach((v, b) => near(fit.groupCov[a][b], v, 10 * rel, 10 * rel * scaleOfCov)));
  near(fit.residualVar, r.residualVar, rel);
  near(fit.logLik, r.logLik, 0, 1e-4);
}

const HAVE_SLEEP = existsSync(SLEEP);
describe.skipIf(!HAVE_SLEEP)(`sleepstudy (lme4)${HAVE_SLEEP ? '' : ' — skipped: ../shared/data/sleepstudy.csv is not present'}`, () => {
  const load = async () => {
    const c = await columns(SLEEP, ['Reaction', 'Days', 'Subject']);
    return { y: c.Reaction.map(Number), days: c.Days.map(Number), subject: c.Subject };
  };
  for (const method of ['REML', 'ML'] as const) {
    it(`Reaction ~ Days + (1 | Subject), ${method}, reproduces statsmodels/lme4`, async () => {
      const d = await load();
      const fit = fitLmm({ y: d.y, fixed: { Days: d.days }, groups: d.subject }, { method });
      expectLikeStatsmodels(fit, ref.sleepstudy[`intercept_${method}`]);
      expect(fit.randomNames).toEqual(['Intercept']);
      expect(fit.method).toBe(method);
    });
    it(`Reaction ~ Days + (Days | Subject), ${method}, converges to statsmodels/lme4`, async () => {
      const d = await load();
      const fit = fitLmm({ y: d.y, fixed: { Days: d.days }, randomSlopes: ['Days'], groups: d.subject }, { method });
      expectLikeStatsmodels(fit, ref.sleepstudy[`slope_${method}`]);
      expect(fit.randomNames).toEqual(['Intercept', 'Days']);
    });
  }
  it('both SE conventions agree on this balanced design', async () => {
    const d = await load();
    const sm = fitLmm({ y: d.y, fixed: { Days: d.days }, groups: d.subject });
    const l4 = fitLmm({ y: d.y, fixed: { Days: d.days }, groups: d.subject }, { se: 'lme4' });
    sm.fixed.forEach((fe, j) => near(l4.fixed[j].se, fe.se, 1e-5));
  });
});

async function generated(name: string) {
  const c = await columns(new URL(`../fixtures/reference/lmm_${name}.csv`, import.meta.url).pathname, ['group', 'x', 'y']);
  return { group: c.group, x: c.x.map(Number), y: c.y.map(Number) };
}

describe('data sets the project generated (test/fixtures/reference/lmm_*.csv) against statsmodels', () => {
  it('unbalanced groups (sizes 1–14): random intercept, REML and ML', async () => {
    const d = await generated('unbalanced');
    for (const method of ['REML', 'ML'] as const) {
      const fit = fitLmm({ y: d.y, fixed: { x: d.x }, groups: d.group }, { method });
      expectLikeStatsmodels(fit, ref.unbalanced[`intercept_${method}`]);
      expect(fit.groupSizes.min).toBe(1);
      expect(fit.groupSizes.max).toBe(14);
    }
  });

  it('unbalanced groups: correlated random intercept and slope, REML and ML', async () => {
    const d = await generated('unbalanced');
    for (const method of ['REML', 'ML'] as const) {
      const fit = fitLmm({ y: d.y, fixed: { x: d.x }, randomSlopes: ['x'], groups: d.group }, { method });
      expectLikeStatsmodels(fit, ref.unbalanced[`slope_${method}`]);
    }
  });

  it('unbalanced: the lme4 SE convention differs from statsmodels\' (cross terms), estimates do not', async () => {
    const d = await generated('unbalanced');
    const sm = fitLmm({ y: d.y, fixed: { x: d.x }, groups: d.group });
    const l4 = fitLmm({ y: d.y, fixed: { x: d.x }, groups: d.group }, { se: 'lme4' });
    expect(l4.fixed[1].coef).toBe(sm.fixed[1].coef);
    expect(Math.abs(l4.fixed[1].se / sm.fixed[1].se - 1)).toBeGreaterThan(1e-3);
    expect(l4.seMethod).toBe('lme4');
  });

  it('mostly groups of size 1', async () => {
    const d = await generated('singletons');
    for (const method of ['REML', 'ML'] as const) {
      const fit = fitLmm({ y: d.y, fixed: { x: d.x }, groups: d.group }, { method });
      expectLikeStatsmodels(fit, ref.singletons[`intercept_${method}`]);
      expect(fit.groupSizes.min).toBe(1);
    }
  });

  it('boundary fit: group variance ≈ 0, converged, fixed effects ≈ OLS', async () => {
    const d = await generated('boundary');
    for (const method of ['REML', 'ML'] as const) {
      const fit = fitLmm({ y: d.y, fixed: { x: d.x }, groups: d.group }, { method });
      const r = ref.boundary[`intercept_${method}`];
      expect(fit.converged).toBe(true);
      expect(fit.boundary).toBe(true);
      expect(fit.groupVar).toBeGreaterThanOrEqual(0);
      expect(fit.groupVar).toBeLessThan(1e-6 * fit.residualVar);
      expect(r.groupCov[0][0]).toBeLessThan(1e-6 * r.residualVar);
      near(fit.fixed[0].coef, ref.boundary.ols.Intercept, 1e-6);
      near(fit.fixed[1].coef, ref.boundary.ols.x, 1e-6);
      for (const fe of fit.fixed) { near(fe.coef, r.fixed[fe.name].coef, 1e-6); near(fe.se, r.fixed[fe.name].se, 1e-4); }
      near(fit.residualVar, r.residualVar, 1e-6);
      near(fit.logLik, r.logLik, 0, 1e-4);
    }
  });
});

describe('clear errors', () => {
  const g = ['a', 'a', 'b', 'b', 'c', 'c'];
  const x = [1, 2, 3, 4, 5, 6], y = [1.1, 2.3, 2.9, 4.2, 5.1, 5.8];
  const err = (f: () => unknown, re: RegExp) => { expect(f).toThrow(UsageError); expect(f).toThrow(re); };
  it('missing values name the column and rows', () => {
    err(() => fitLmm({ y: [1, NaN, 3, 4, 5, 6], fixed: { x }, groups: g, yName: 'actual' }), /'actual' has 1 missing .*row 2/);
    err(() => fitLmm({ y, fixed: { predicted: [1, 2, NaN, 4, 5, NaN] }, groups: g }), /'predicted' has 2 missing .*rows 3, 6/);
  });
  it('a single group', () => err(() => fitLmm({ y, fixed: { x }, groups: g.map(() => 'only') }), /at least 2 groups, got 1/));
  it('only groups of size 1', () => err(() => fitLmm({ y, fixed: { x }, groups: ['a', 'b', 'c', 'd', 'e', 'f'] }), /single row/));
  it('a constant column', () => err(() => fitLmm({ y, fixed: { x: [3, 3, 3, 3, 3, 3] }, groups: g }), /'x' is constant/));
  it('a singular design', () => err(() => fitLmm({ y, fixed: { x, twice: x.map((v) => 2 * v - 1) }, groups: g }), /singular/));
  it('an exact fit (no residual error)', () => {
    const gg = Array.from({ length: 40 }, (_, i) => `p${i % 5}`), xx = Array.from({ length: 40 }, (_, i) => (i * 7) % 11);
    err(() => fitLmm({ y: xx.map((v, i) => v + (i % 5)), fixed: { x: xx }, groups: gg }), /fitted exactly/);
  });
  it('too few rows and mismatched lengths', () => {
    err(() => fitLmm({ y: [1, 2], fixed: { x: [1, 2] }, groups: ['a', 'b'] }), /2 rows cannot estimate/);
    err(() => fitLmm({ y, fixed: { x: [1, 2] }, groups: g }), /'x' has 2 values, expected 6/);
    err(() => fitLmm({ y, fixed: { x }, randomSlopes: ['z'], groups: g }), /random slope 'z'/);
    err(() => fitMixedModel({ y, X: x.map((v) => [1, v]), xNames: ['Intercept', 'x'], groups: ['a'] }), /same number of rows/);
  });
});
