/**
 * Multinomial (softmax) logistic regression with an L2 penalty, in sklearn's parametrisation:
 *   minimise  C · Σ_i −log p(y_i | x_i) + ½‖W‖²     (intercepts not penalised)
 * solved with L-BFGS. `fitStandardizedLogistic` adds the usual pipeline: mean imputation of
 * missing values (NaN) and standardisation with the training set's means and SDs.
 */

export interface LogisticModel { classes: number[]; W: Float64Array; b: Float64Array; d: number }
export interface LogisticOptions { C?: number; maxIter?: number; tol?: number }

/** Minimise f with L-BFGS (m = 10, backtracking Armijo line search). */
export function lbfgs(f: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, maxIter = 500, tol = 1e-6): Float64Array {
  const n = x0.length, m = 10;
  const x = Float64Array.from(x0); const g = new Float64Array(n);
  let fx = f(x, g);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const d = new Float64Array(n), xn = new Float64Array(n), gn = new Float64Array(n);
  for (let it = 0; it < maxIter; it++) {
    let gmax = 0; for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < tol) break;
    // two-loop recursion
    d.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0; for (let i = 0; i < n; i++) a += S[k][i] * d[i];
      a *= rho[k]; alpha[k] = a;
      for (let i = 0; i < n; i++) d[i] -= a * Y[k][i];
    }
    if (S.length) {
      const k = S.length - 1; let yy = 0, sy = 0;
      for (let i = 0; i < n; i++) { yy += Y[k][i] * Y[k][i]; sy += S[k][i] * Y[k][i]; }
      const gamma = sy / yy; for (let i = 0; i < n; i++) d[i] *= gamma;
    } else {
      const s = 1 / Math.max(1, gmax); for (let i = 0; i < n; i++) d[i] *= s;
    }
    for (let k = 0; k < S.length; k++) {
      let bb = 0; for (let i = 0; i < n; i++) bb += Y[k][i] * d[i];
      bb *= rho[k];
      for (let i = 0; i < n; i++) d[i] += S[k][i] * (alpha[k] - bb);
    }
    let gd = 0; for (let i = 0; i < n; i++) gd += g[i] * d[i];
    if (gd <= 0) { d.set(g); gd = 0; for (let i = 0; i < n; i++) gd += g[i] * g[i]; S.length = 0; Y.length = 0; rho.length = 0; }
    let step = 1, fn = 0;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xn[i] = x[i] - step * d[i];
      fn = f(xn, gn);
      if (fn <= fx - 1e-4 * step * gd) break;
      step *= 0.5;
    }
    const s = new Float64Array(n), y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) { s[i] = xn[i] - x[i]; y[i] = gn[i] - g[i]; sy += s[i] * y[i]; }
    const rel = Math.abs(fx - fn) / Math.max(1, Math.abs(fx));
    x.set(xn); g.set(gn); fx = fn;
    if (sy > 1e-12) { S.push(s); Y.push(y); rho.push(1 / sy); if (S.length > m) { S.shift(); Y.shift(); rho.shift(); } }
    if (rel < 1e-12) break;
  }
  return x;
}

/** Fit on rows X (n × d, row-major) with integer labels y. */
export function fitLogistic(X: Float64Array[], y: number[], o: LogisticOptions = {}): LogisticModel {
  const C = o.C ?? 1;
  const classes = [...new Set(y)].sort((a, b) => a - b);
  const K = classes.length, d = X[0]?.length ?? 0, n = X.length;
  const yi = y.map((v) => classes.indexOf(v));
  const P = (K * d) + K;
  const p = new Float64Array(K);
  const f = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const x = X[i];
      let mx = -Infinity;
      for (let k = 0; k < K; k++) {
        let z = w[K * d + k]; const o2 = k * d;
        for (let j = 0; j < d; j++) z += w[o2 + j] * x[j];
        p[k] = z; if (z > mx) mx = z;
      }
      let s = 0; for (let k = 0; k < K; k++) { p[k] = Math.exp(p[k] - mx); s += p[k]; }
      loss += -(Math.log(p[yi[i]] / s));
      for (let k = 0; k < K; k++) {
        const r = C * (p[k] / s - (k === yi[i] ? 1 : 0));
        const o2 = k * d;
        for (let j = 0; j < d; j++) g[o2 + j] += r * x[j];
        g[K * d + k] += r;
      }
    }
    let reg = 0;
    for (let j = 0; j < K * d; j++) { reg += w[j] * w[j]; g[j] += w[j]; }
    return C * loss + 0.5 * reg;
  };
  const w = lbfgs(f, new Float64Array(P), o.maxIter ?? 2000, o.tol ?? 1e-5);
  return { classes, W: w.slice(0, K * d), b: w.slice(K * d), d };
}

export function predictLogistic(m: LogisticModel, x: ArrayLike<number>): number {
  let best = -Infinity, arg = 0;
  for (let k = 0; k < m.classes.length; k++) {
    let z = m.b[k]; for (let j = 0; j < m.d; j++) z += m.W[k * m.d + j] * x[j];
    if (z > best) { best = z; arg = k; }
  }
  return m.classes[arg];
}

export interface Standardizer { mean: Float64Array; sd: Float64Array }

/** Column means (ignoring NaN) and SDs on training rows; constant columns get SD 1. */
export function fitStandardizer(X: ArrayLike<number>[]): Standardizer {
  const d = X[0]?.length ?? 0;
  const mean = new Float64Array(d), sd = new Float64Array(d), cnt = new Float64Array(d);
  for (const x of X) for (let j = 0; j < d; j++) if (Number.isFinite(x[j])) { mean[j] += x[j]; cnt[j]++; }
  for (let j = 0; j < d; j++) mean[j] = cnt[j] ? mean[j] / cnt[j] : 0;
  for (const x of X) for (let j = 0; j < d; j++) { const v = Number.isFinite(x[j]) ? x[j] : mean[j]; sd[j] += (v - mean[j]) ** 2; }
  for (let j = 0; j < d; j++) { sd[j] = Math.sqrt(sd[j] / Math.max(1, X.length)); if (!(sd[j] > 1e-12)) sd[j] = 1; }
  return { mean, sd };
}

/** Impute NaN with the training mean, then z-score. */
export function standardize(s: Standardizer, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.mean.length);
  for (let j = 0; j < out.length; j++) { const v = Number.isFinite(x[j]) ? x[j] : s.mean[j]; out[j] = (v - s.mean[j]) / s.sd[j]; }
  return out;
}

/** Unweighted average recall: the mean over classes of the recall of each class. */
export function unweightedAverageRecall(truth: number[], pred: number[]): number {
  const classes = [...new Set(truth)];
  let s = 0;
  for (const c of classes) {
    let n = 0, hit = 0;
    truth.forEach((t, i) => { if (t === c) { n++; if (pred[i] === c) hit++; } });
    s += hit / n;
  }
  return s / classes.length;
}
