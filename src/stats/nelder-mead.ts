/**
 * Nelder–Mead simplex minimiser (Nelder & Mead 1965, with the standard coefficients
 * reflection 1, expansion 2, contraction ½, shrink ½ as in Lagarias et al. 1998), restarted from
 * its own optimum until a restart no longer improves — restarts guard against the simplex
 * collapsing early, a known weakness of the method. Derivative-free, which suits the profiled
 * mixed-model likelihood (cheap to evaluate, gradients would need more code than they save).
 * Pure; browser-safe.
 */

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (default 0.5; scaled by |x₀ᵢ| when that is larger than 1). */
  step?: number;
  /** Stop when the simplex's function values differ by less than fTol·(1 + |f_best|) … */
  fTol?: number;
  /** … and its vertices by less than xTol in every coordinate. */
  xTol?: number;
  /** Maximum number of function evaluations over all restarts (default 20 000). */
  maxEvals?: number;
  /** Maximum number of restarts from the current optimum (default 8). */
  maxRestarts?: number;
}

export interface NelderMeadResult {
  x: number[];
  f: number;
  evals: number;
  restarts: number;
  /** True when the tolerances were met and the last restart did not improve f. */
  converged: boolean;
}

export function nelderMead(fn: (x: number[]) => number, x0: readonly number[], opts: NelderMeadOptions = {}): NelderMeadResult {
  const fTol = opts.fTol ?? 1e-12, xTol = opts.xTol ?? 1e-9;
  const maxEvals = opts.maxEvals ?? 20_000, maxRestarts = opts.maxRestarts ?? 8;
  let evals = 0;
  const f = (x: number[]) => { evals++; const v = fn(x); return Number.isNaN(v) ? Infinity : v; };

  let best = { x: [...x0], f: f([...x0]) };
  let converged = false, restarts = 0;
  for (; restarts <= maxRestarts; restarts++) {
    const run = simplexRun(f, best.x, best.f, opts.step ?? 0.5, fTol, xTol, () => evals >= maxEvals);
    const improved = best.f - run.f > fTol * (1 + Math.abs(run.f));
    if (run.f <= best.f) best = { x: run.x, f: run.f };
    if (!run.met) { converged = false; break; }
    if (!improved && restarts > 0) { converged = true; break; }
  }
  return { x: best.x, f: best.f, evals, restarts, converged };
}

function simplexRun(
  f: (x: number[]) => number, x0: number[], f0: number, step: number, fTol: number, xTol: number, outOfBudget: () => boolean,
): { x: number[]; f: number; met: boolean } {
  const d = x0.length;
  const pts: number[][] = [x0.slice()];
  const vals: number[] = [f0];
  for (let i = 0; i < d; i++) {
    const p = x0.slice();
    p[i] += step * Math.max(1, Math.abs(x0[i]));
    pts.push(p); vals.push(f(p));
  }
  const order = () => {
    const idx = pts.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
    const p2 = idx.map((i) => pts[i]), v2 = idx.map((i) => vals[i]);
    for (let i = 0; i <= d; i++) { pts[i] = p2[i]; vals[i] = v2[i]; }
  };
  const along = (c: number[], w: number[], t: number) => c.map((ci, j) => ci + t * (w[j] - ci));
  for (;;) {
    order();
    const fSpread = vals[d] - vals[0];
    let xSpread = 0;
    for (let i = 1; i <= d; i++) for (let j = 0; j < d; j++) xSpread = Math.max(xSpread, Math.abs(pts[i][j] - pts[0][j]));
    if (fSpread <= fTol * (1 + Math.abs(vals[0])) && xSpread <= xTol) return { x: pts[0], f: vals[0], met: true };
    if (outOfBudget()) return { x: pts[0], f: vals[0], met: false };
    // Centroid of all vertices but the worst.
    const c = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) c[j] += pts[i][j] / d;
    const xr = along(c, pts[d], -1), fr = f(xr);
    if (fr < vals[0]) {
      const xe = along(c, pts[d], -2), fe = f(xe);
      if (fe < fr) { pts[d] = xe; vals[d] = fe; } else { pts[d] = xr; vals[d] = fr; }
    } else if (fr < vals[d - 1]) {
      pts[d] = xr; vals[d] = fr;
    } else {
      // Outside (fr < worst) or inside contraction.
      const outside = fr < vals[d];
      const xc = along(c, pts[d], outside ? -0.5 : 0.5), fc = f(xc);
      if (fc < (outside ? fr : vals[d])) { pts[d] = xc; vals[d] = fc; }
      else {
        for (let i = 1; i <= d; i++) { pts[i] = along(pts[0], pts[i], 0.5); vals[i] = f(pts[i]); }
      }
    }
  }
}
