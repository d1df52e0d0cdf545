/**
 * Linear mixed model with a random intercept (and optionally random slopes) per group, fitted by
 * REML (default) or ML — the model behind the paper's Table 4 (SPEC §3 "Statistics") and what
 * statsmodels' MixedLM / lme4's lmer fit. Pure; browser-safe (ml-matrix for the linear algebra).
 *
 * Model, for group i with nᵢ rows:
 *   yᵢ = Xᵢβ + Zᵢbᵢ + εᵢ,   bᵢ ~ N(0, σ²Ψ),   εᵢ ~ N(0, σ²I),   groups independent,
 * with Ψ = ΛΛᵀ (q × q, unstructured) and Λ lower-triangular; θ = the entries of Λ.
 * Var(yᵢ) = σ²Hᵢ,  Hᵢ = I + ZᵢΛΛᵀZᵢᵀ.  With Aᵢ = I_q + ΛᵀZᵢᵀZᵢΛ (q × q),
 *   |Hᵢ| = |Aᵢ|                              (matrix determinant lemma)
 *   Hᵢ⁻¹ = I − ZᵢΛAᵢ⁻¹ΛᵀZᵢᵀ                    (Woodbury)
 * so every quantity needs only the per-group sums ZᵢᵀZᵢ, ZᵢᵀXᵢ, Zᵢᵀyᵢ — one evaluation costs
 * O(groups · q³ + p³), whatever the number of rows:
 *   XᵀH⁻¹X = Σᵢ XᵢᵀXᵢ − UᵢᵀAᵢ⁻¹Uᵢ,  Uᵢ = ΛᵀZᵢᵀXᵢ    (likewise XᵀH⁻¹y and yᵀH⁻¹y)
 *   β̂(θ) = (XᵀH⁻¹X)⁻¹XᵀH⁻¹y,   r²(θ) = yᵀH⁻¹y − β̂ᵀXᵀH⁻¹y
 * Profiling out σ² (σ̂² = r²/n for ML, r²/(n − p) for REML) leaves a function of θ alone:
 *   ℓ_ML(θ)   = −½ [ n (1 + log(2π r²/n))             + Σᵢ log|Aᵢ| ]
 *   ℓ_REML(θ) = −½ [ (n−p)(1 + log(2π r²/(n−p)))      + Σᵢ log|Aᵢ| + log|XᵀH⁻¹X| ]
 * (Bates et al. 2015, J. Stat. Softw. 67(1), eqs. 34 and 41; the numbers statsmodels reports.)
 * θ is unconstrained: ΛΛᵀ does not change when a column of Λ changes sign, and a variance can
 * reach its boundary 0 exactly (θ = 0), which a log-Cholesky parameterisation cannot.
 * Wald inference: z = β̂/SE, p = 2Φ(−|z|), 95 % CI β̂ ± 1.96·SE, with Cov(β̂) as statsmodels
 * computes it (default) or as lme4 does, σ̂²(XᵀH⁻¹X)⁻¹ (lmm-information.ts).
 */
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix, inverse } from 'ml-matrix';
import { UsageError } from '../util/errors.js';
import { observedCovFixed, type GroupSums, type SeMethod } from './lmm-information.js';
import { nelderMead } from './nelder-mead.js';
import { twoSidedP, Z_95 } from './normal.js';

export type FitMethod = 'REML' | 'ML';

/** The model as matrices: n rows; X is n × p, Z is n × q (its first column is usually 1). */
export interface MixedModelDesign {
  y: ArrayLike<number>;
  /** Fixed-effects design, row-major n × p arrays (one array per row). */
  X: ArrayLike<ArrayLike<number>>;
  xNames: string[];
  /** Random-effects design per row (n × q); default: a random intercept only. */
  Z?: ArrayLike<ArrayLike<number>>;
  zNames?: string[];
  groups: ArrayLike<string | number>;
}

export interface MixedModelOptions {
  /** 'REML' (default, as in the paper and statsmodels) or 'ML'. */
  method?: FitMethod;
  /** Name of the response, for messages. */
  yName?: string;
  /** Cap on likelihood evaluations (default 20 000). */
  maxEvals?: number;
  /**
   * Standard errors of β̂: 'statsmodels' (default: observed information of (β, ψ), what MixedLM
   * prints and what the paper's Table 4 used) or 'lme4' (σ̂²(XᵀH⁻¹X)⁻¹). They agree on balanced
   * designs. See lmm-information.ts.
   */
  se?: SeMethod;
}

/** One fixed effect, as MixedLM's summary prints it. */
export interface FixedEffect {
  name: string;
  coef: number;
  se: number;
  z: number;
  /** Two-sided p of the Wald z test (normal reference). */
  p: number;
  ciLow: number;
  ciHigh: number;
}

export interface MixedModelFit {
  method: FitMethod;
  fixed: FixedEffect[];
  /** Names of the random effects per group ("Intercept" then the random slopes). */
  randomNames: string[];
  /** Covariance of the random effects σ²Ψ (q × q), in units of y². */
  groupCov: number[][];
  /** Variance of the random intercept (groupCov[0][0]): "Group Var" in MixedLM's summary. */
  groupVar: number;
  /** Residual variance σ² ("Scale"). */
  residualVar: number;
  /** Maximised log-likelihood (REML or ML, by `method`). */
  logLik: number;
  converged: boolean;
  /** True when a random-effect variance is (numerically) 0: the fit is on the boundary. */
  boundary: boolean;
  nObs: number;
  nGroups: number;
  groupSizes: { min: number; max: number; mean: number };
  /** Likelihood evaluations used. */
  evaluations: number;
  /** Relative Cholesky factor Λ entries at the optimum (row-major lower triangle). */
  theta: number[];
  /** Notes on the fit (boundary, fallbacks), for the user. */
  warnings: string[];
  /** Cov(β̂) (p × p), by `seMethod`. */
  covFixed: number[][];
  seMethod: SeMethod;
}

interface Profile { logLik: number; beta: Matrix; sigma2: number; XtHX: Matrix }

export function fitMixedModel(design: MixedModelDesign, opts: MixedModelOptions = {}): MixedModelFit {
  const method = opts.method ?? 'REML';
  const { y, X, xNames, groups } = design;
  const n = y.length, p = xNames.length;
  const Z = design.Z ?? Array.from({ length: n }, () => [1]);
  const zNames = design.zNames ?? ['Intercept'];
  const q = zNames.length;
  validateDesign(design, Z, zNames, opts.yName ?? 'y');

  // Whole-data sums and per-group sums.
  const Xm = new Matrix(Array.from({ length: n }, (_, i) => Array.from(X[i])));
  const ym = Matrix.columnVector(Array.from(y));
  const XtX = Xm.transpose().mmul(Xm), Xty = Xm.transpose().mmul(ym), yty = ym.transpose().mmul(ym).get(0, 0);
  const rowsOf = new Map<string | number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups[i];
    const r = rowsOf.get(g);
    if (r) r.push(i); else rowsOf.set(g, [i]);
  }
  const sums: GroupSums[] = [...rowsOf.values()].map((rows) => {
    const Xi = new Matrix(rows.map((i) => Array.from(X[i])));
    const Zi = new Matrix(rows.map((i) => Array.from(Z[i])));
    const yi = Matrix.columnVector(rows.map((i) => y[i]));
    const Zit = Zi.transpose();
    return { ZtZ: Zit.mmul(Zi), ZtX: Zit.mmul(Xi), Zty: Zit.mmul(yi), n: rows.length };
  });
  const dof = method === 'REML' ? n - p : n;

  /** Λ from θ (row-major lower triangle). */
  const lambdaOf = (theta: readonly number[]): Matrix => {
    const L = Matrix.zeros(q, q);
    let k = 0;
    for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) L.set(r, c, theta[k++]);
    return L;
  };

  /** The profiled log-likelihood ℓ(θ) of the header, with β̂ and σ̂² at θ. */
  // Augmented sums over [X y]: one (p+1)-column block carries XᵀH⁻¹X, XᵀH⁻¹y and yᵀH⁻¹y together.
  const XyXy = new Matrix(p + 1, p + 1);
  XyXy.setSubMatrix(XtX, 0, 0); XyXy.setSubMatrix(Xty, 0, p); XyXy.setSubMatrix(Xty.transpose(), p, 0); XyXy.set(p, p, yty);
  const ZtXy = sums.map((g) => new Matrix(q, p + 1).setSubMatrix(g.ZtX, 0, 0).setSubMatrix(g.Zty, 0, p));
  const Iq = Matrix.eye(q);

  const profile = (theta: readonly number[]): Profile | null => {
    const L = lambdaOf(theta), Lt = L.transpose();
    const M = XyXy.clone(); // becomes [X y]ᵀH⁻¹[X y]
    let logDetH = 0;
    for (let i = 0; i < sums.length; i++) {
      const A = symmetric(Lt.mmul(sums[i].ZtZ).mmul(L).add(Iq)); // Aᵢ = I + ΛᵀZᵢᵀZᵢΛ
      const chol = new CholeskyDecomposition(A);
      if (!chol.isPositiveDefinite()) return null;
      logDetH += logDetFromCholesky(chol);
      const U = Lt.mmul(ZtXy[i]); // Λᵀ Zᵢᵀ[Xᵢ yᵢ]
      M.sub(U.transpose().mmul(chol.solve(U)));
    }
    const XtHX = symmetric(M.subMatrix(0, p - 1, 0, p - 1)), XtHy = M.subMatrix(0, p - 1, p, p), ytHy = M.get(p, p);
    const cholX = new CholeskyDecomposition(XtHX);
    if (!cholX.isPositiveDefinite()) return null;
    const beta = cholX.solve(XtHy);
    const r2 = ytHy - beta.transpose().mmul(XtHy).get(0, 0);
    if (!(r2 > 0)) return null;
    let dev = dof * (1 + Math.log((2 * Math.PI * r2) / dof)) + logDetH;
    if (method === 'REML') dev += logDetFromCholesky(cholX);
    return { logLik: -dev / 2, beta, sigma2: r2 / dof, XtHX };
  };

  // Starting points: Λ = s·I for a few relative scales s; the best one seeds Nelder–Mead.
  const nTheta = (q * (q + 1)) / 2;
  const starts = [0.25, 1, 4].map((s) => {
    const t: number[] = [];
    for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) t.push(r === c ? s : 0);
    return t;
  });
  const objective = (theta: number[]) => { const pr = profile(theta); return pr ? -pr.logLik : Infinity; };
  let start = starts[0], startF = Infinity;
  for (const s of starts) { const f = objective(s); if (f < startF) { start = s; startF = f; } }
  if (!Number.isFinite(startF)) throw new UsageError('mixed model: the likelihood cannot be evaluated at any starting point (is the design degenerate?)');
  const opt = nelderMead(objective, start, { maxEvals: opts.maxEvals ?? 20_000, step: 0.5 });
  const theta = opt.x;
  const best = profile(theta);
  if (!best) throw new UsageError('mixed model: the optimiser ended at a point where the likelihood is undefined');

  // Results in y units.
  const L = lambdaOf(theta);
  const groupCovM = L.mmul(L.transpose()).mul(best.sigma2);
  const covLme4 = inverse(best.XtHX).mul(best.sigma2);
  const seMethod = opts.se ?? 'statsmodels';
  const psiM = L.mmul(L.transpose());
  const psi: number[] = [];
  for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) psi.push(psiM.get(r, c));
  const warnings: string[] = [];
  const yMean = Array.from(y).reduce((a, b) => a + b, 0) / n;
  const yVar = Array.from(y).reduce((a, b) => a + (b - yMean) ** 2, 0) / n;
  if (best.sigma2 <= 1e-12 * yVar) {
    throw new UsageError(`mixed model: ${opts.yName ?? 'y'} is fitted exactly (residual variance ≈ 0): the data leave no error to estimate`);
  }
  let covFixed = covLme4;
  if (seMethod === 'statsmodels') {
    try {
      covFixed = observedCovFixed({ groups: sums, XtX, Xty, yty, n, p, q }, best.beta, psi, method === 'REML', covLme4);
    } catch {
      warnings.push('the observed information is singular; standard errors are σ̂²(XᵀH⁻¹X)⁻¹ (lme4) instead');
    }
  }
  const fixed: FixedEffect[] = xNames.map((name, j) => {
    const coef = best.beta.get(j, 0), se = Math.sqrt(covFixed.get(j, j)), z = coef / se;
    return { name, coef, se, z, p: twoSidedP(z), ciLow: coef - Z_95 * se, ciHigh: coef + Z_95 * se };
  });
  const groupCov = groupCovM.to2DArray();
  const sizes = sums.map((g) => g.n);
  const boundary = groupCov.some((row, k) => row[k] <= 1e-8 * best.sigma2);
  if (boundary) warnings.push('a random-effect variance is ≈ 0: the fit is on the boundary of the parameter space');
  if (!opt.converged) warnings.push(`the optimiser did not converge within ${opt.evals} likelihood evaluations`);
  return {
    method, fixed, randomNames: zNames, groupCov, groupVar: groupCov[0][0], residualVar: best.sigma2,
    logLik: best.logLik, converged: opt.converged && nTheta > 0, boundary,
    nObs: n, nGroups: sums.length,
    groupSizes: { min: Math.min(...sizes), max: Math.max(...sizes), mean: n / sums.length },
    evaluations: opt.evals, theta, covFixed: covFixed.to2DArray(), seMethod, warnings,
  };
}

function symmetric(M: Matrix): Matrix {
  const S = M.clone();
  for (let r = 0; r < S.rows; r++) for (let c = 0; c < r; c++) { const v = (S.get(r, c) + S.get(c, r)) / 2; S.set(r, c, v); S.set(c, r, v); }
  return S;
}

function logDetFromCholesky(chol: CholeskyDecomposition): number {
  const Lc = chol.lowerTriangularMatrix;
  let s = 0;
  for (let k = 0; k < Lc.rows; k++) s += 2 * Math.log(Lc.get(k, k));
  return s;
}

/**
 * The errors a user can cause, each named clearly: missing values, too few groups or rows,
 * constant columns, and a rank-deficient (singular) fixed-effects design.
 */
function validateDesign(d: MixedModelDesign, Z: ArrayLike<ArrayLike<number>>, zNames: string[], yName: string): void {
  const n = d.y.length, p = d.xNames.length, q = zNames.length;
  if (d.X.length !== n || Z.length !== n || d.groups.length !== n) {
    throw new UsageError(`mixed model: ${yName}, X, Z and groups must have the same number of rows (${n}, ${d.X.length}, ${Z.length}, ${d.groups.length})`);
  }
  if (p === 0) throw new UsageError('mixed model: no fixed effects');
  if (q === 0) throw new UsageError('mixed model: no random effects');
  const missing = (name: string, get: (i: number) => number) => {
    const bad: number[] = [];
    for (let i = 0; i < n; i++) if (!Number.isFinite(get(i))) bad.push(i);
    if (bad.length) {
      throw new UsageError(`mixed model: '${name}' has ${bad.length} missing or non-finite value${bad.length > 1 ? 's' : ''} (row${bad.length > 1 ? 's' : ''} ${bad.slice(0, 5).map((i) => i + 1).join(', ')}${bad.length > 5 ? ', …' : ''}); drop or impute them first`);
    }
  };
  missing(yName, (i) => d.y[i]);
  d.xNames.forEach((name, j) => {
    if (d.X[0]?.length !== p) throw new UsageError(`mixed model: X has ${d.X[0]?.length} columns but ${p} names`);
    missing(name, (i) => d.X[i][j]);
  });
  zNames.forEach((name, j) => missing(name, (i) => Z[i][j]));
  for (let i = 0; i < n; i++) {
    const g = d.groups[i];
    if (g === undefined || g === null || g === '' || (typeof g === 'number' && Number.isNaN(g))) {
      throw new UsageError(`mixed model: row ${i + 1} has no group`);
    }
  }
  const nGroups = new Set(Array.from(d.groups)).size;
  if (nGroups < 2) throw new UsageError(`mixed model: a random effect per group needs at least 2 groups, got ${nGroups}`);
  if (n <= p) throw new UsageError(`mixed model: ${n} rows cannot estimate ${p} fixed effects and a residual variance`);
  if (nGroups === n) throw new UsageError(`mixed model: every group has a single row, so the group variance cannot be separated from the residual variance`);

  // Constant columns: only one (the intercept) may be constant.
  const constants = d.xNames.filter((_, j) => { const v = d.X[0][j]; for (let i = 1; i < n; i++) if (d.X[i][j] !== v) return false; return true; });
  if (constants.length > 1 || (constants.length === 1 && constants[0] !== 'Intercept')) {
    const name = constants.find((c) => c !== 'Intercept') ?? constants[0];
    const j = d.xNames.indexOf(name);
    throw new UsageError(`mixed model: fixed-effect column '${name}' is constant (every value is ${d.X[0][j]}), so it cannot be separated from the intercept`);
  }
  // Rank: the smallest eigenvalue of the scaled cross-product XᵀX (columns scaled to unit norm).
  const cols = d.xNames.map((_, j) => { let s = 0; for (let i = 0; i < n; i++) s += d.X[i][j] ** 2; return Math.sqrt(s) || 1; });
  const C = Matrix.zeros(p, p);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) for (let b = 0; b <= a; b++) C.set(a, b, C.get(a, b) + (d.X[i][a] / cols[a]) * (d.X[i][b] / cols[b]));
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) C.set(b, a, C.get(a, b));
  const ev = new EigenvalueDecomposition(C, { assumeSymmetric: true }).realEigenvalues;
  if (Math.min(...ev) < 1e-10 * Math.max(...ev)) {
    throw new UsageError(`mixed model: the fixed-effects design (${d.xNames.join(', ')}) is singular: a column is a linear combination of the others`);
  }
}

export interface LmmSpec {
  /** Response values. */
  y: ArrayLike<number>;
  yName?: string;
  /** Fixed-effect covariates by name (an intercept is added first unless `intercept: false`). */
  fixed: Record<string, ArrayLike<number>>;
  /** Names (from `fixed`) that also get a random slope per group, correlated with the intercept. */
  randomSlopes?: string[];
  groups: ArrayLike<string | number>;
  intercept?: boolean;
}

/**
 * Formula-style convenience: `y ~ 1 + fixed… + (1 + randomSlopes… | groups)`.
 * E.g. lme4's `Reaction ~ Days + (Days | Subject)` is
 * `fitLmm({ y: reaction, fixed: { Days: days }, randomSlopes: ['Days'], groups: subject })`.
 */
export function fitLmm(spec: LmmSpec, opts: MixedModelOptions = {}): MixedModelFit {
  const n = spec.y.length;
  const names = Object.keys(spec.fixed);
  for (const nm of names) if (spec.fixed[nm].length !== n) throw new UsageError(`mixed model: column '${nm}' has ${spec.fixed[nm].length} values, expected ${n}`);
  const slopes = spec.randomSlopes ?? [];
  for (const s of slopes) if (!(s in spec.fixed)) throw new UsageError(`mixed model: random slope '${s}' is not a fixed effect (${names.join(', ')})`);
  const withIntercept = spec.intercept ?? true;
  const X = Array.from({ length: n }, (_, i) => [...(withIntercept ? [1] : []), ...names.map((nm) => spec.fixed[nm][i])]);
  const Z = Array.from({ length: n }, (_, i) => [1, ...slopes.map((s) => spec.fixed[s][i])]);
  return fitMixedModel({
    y: spec.y, X, xNames: [...(withIntercept ? ['Intercept'] : []), ...names],
    Z, zNames: ['Intercept', ...slopes], groups: spec.groups,
  }, { ...opts, yName: opts.yName ?? spec.yName });
}
