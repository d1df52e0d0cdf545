import { describe, expect, it } from 'vitest';
import { nelderMead } from '../../src/stats/nelder-mead.js';
import { erfc, normalCdf, twoSidedP, Z_95 } from '../../src/stats/normal.js';

describe('normal distribution', () => {
  it('matches known values, including far tails', () => {
    // scipy.stats.norm: 2·sf(z) for z = 1, 1.96, 5 and 25.79 (sleepstudy's intercept z)
    expect(twoSidedP(1)).toBeCloseTo(0.31731050786291415, 14);
    expect(twoSidedP(Z_95)).toBeCloseTo(0.05, 14);
    expect(twoSidedP(-5) / 5.733031437583866e-07).toBeCloseTo(1, 12);
    expect(twoSidedP(25.793845797736743) / 1.039519256653344e-146).toBeCloseTo(1, 12);
    expect(normalCdf(0)).toBe(0.5);
    expect(erfc(0)).toBe(1);
    expect(erfc(-1) + erfc(1)).toBeCloseTo(2, 15);
    expect(twoSidedP(NaN)).toBeNaN();
  });
});

describe('Nelder–Mead', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const r = nelderMead(([a, b]) => 100 * (b - a * a) ** 2 + (1 - a) ** 2, [-1.2, 1]);
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
  });
  it('reports non-convergence when the budget runs out', () => {
    const r = nelderMead(([a, b]) => 100 * (b - a * a) ** 2 + (1 - a) ** 2, [-1.2, 1], { maxEvals: 30 });
    expect(r.converged).toBe(false);
  });
});
