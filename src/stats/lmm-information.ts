/**
 * Standard errors of the fixed effects of a mixed model, two ways. Pure; browser-safe.
 *
 * 'lme4' (expected information for β):  Cov(β̂) = σ̂²(XᵀH⁻¹X)⁻¹.
 *
 * 'statsmodels' (observed information, what MixedLM's summary prints): the inverse of the negative
 * Hessian of the σ²-profiled log-likelihood in (β, ψ), ψ = the lower triangle of Ψ (the random-
 * effects covariance relative to σ²), with β NOT re-profiled:
 *   ℓ(β, ψ) = −(m/2)·log r(β,ψ) − ½ Σᵢ log|I + ΨZᵢᵀZᵢ| [− ½ log|XᵀH⁻¹X|  for REML] + const,
 *   r(β,ψ) = (y − Xβ)ᵀH⁻¹(y − Xβ),  m = n (ML) or n − p (REML),
 *   Hᵢ⁻¹ = I − Zᵢ(I + ΨZᵢᵀZᵢ)⁻¹ΨZᵢᵀ    (Woodbury; valid for singular Ψ too)
 * Cov(β̂, ψ̂) = (−∇²ℓ)⁻¹ and SE(β̂ⱼ) = √[(−∇²ℓ)⁻¹]ⱼⱼ. The β–ψ cross terms vanish in balanced
 * designs (so both ways agree on lme4's sleepstudy) but not in unbalanced ones, where they move
 * the SEs by a few per cent. statsmodels differentiates analytically; here the Hessian is taken by
 * central differences of ℓ, which agrees with it to ~1e-6 relative.
 */
import { LuDecomposition, Matrix, inverse, solve } from 'ml-matrix';

/** Per-group sums ZᵢᵀZᵢ (q×q), ZᵢᵀXᵢ (q×p), Zᵢᵀyᵢ (q×1): all the likelihood needs. */
export interface GroupSums { ZtZ: Matrix; ZtX: Matrix; Zty: Matrix; n: number }

export interface ModelSums {
  groups: GroupSums[];
  XtX: Matrix;
  Xty: Matrix;
  yty: number;
  n: number;
  p: number;
  q: number;
}

export type SeMethod = 'statsmodels' | 'lme4';

/** Ψ (q × q, symmetric) from its row-major lower triangle ψ. */
export function psiMatrix(psi: readonly number[], q: number): Matrix {
  const P = Matrix.zeros(q, q);
  let k = 0;
  for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) { P.set(r, c, psi[k]); P.set(c, r, psi[k]); k++; }
  return P;
}

/** ℓ(β, ψ) of the header (without its constant); NaN where H is not positive definite. */
function profiledLogLik(s: ModelSums, beta: Matrix, psi: readonly number[], reml: boolean): number {
  const P = psiMatrix(psi, s.q), I = Matrix.eye(s.q);
  const XtHX = s.XtX.clone(), XtHy = s.Xty.clone();
  let ytHy = s.yty, logDet = 0;
  for (const g of s.groups) {
    const M = I.clone().add(P.mmul(g.ZtZ));
    const det = new LuDecomposition(M).determinant;
    if (!(det > 0)) return NaN;
    logDet += Math.log(det);
    const K = solve(M, P); // (I + ΨZᵀZ)⁻¹Ψ
    const KZtX = K.mmul(g.ZtX);
    XtHX.sub(g.ZtX.transpose().mmul(KZtX));
    XtHy.sub(g.ZtX.transpose().mmul(K.mmul(g.Zty)));
    ytHy -= g.Zty.transpose().mmul(K.mmul(g.Zty)).get(0, 0);
  }
  const r = ytHy - 2 * beta.transpose().mmul(XtHy).get(0, 0) + beta.transpose().mmul(XtHX).mmul(beta).get(0, 0);
  if (!(r > 0)) return NaN;
  const m = reml ? s.n - s.p : s.n;
  let ll = -(m / 2) * Math.log(r) - logDet / 2;
  if (reml) {
    const d = new LuDecomposition(XtHX).determinant;
    if (!(d > 0)) return NaN;
    ll -= Math.log(d) / 2;
  }
  return ll;
}

/**
 * Cov(β̂) by the observed information of (β, ψ), as statsmodels computes it.
 * `beta`: p×1 estimate; `psi`: the lower triangle of Ψ̂ = Λ̂Λ̂ᵀ; `covLme4`: σ̂²(XᵀH⁻¹X)⁻¹, used for step sizes.
 */
export function observedCovFixed(s: ModelSums, beta: Matrix, psi: readonly number[], reml: boolean, covLme4: Matrix): Matrix {
  const p = s.p, d = p + psi.length;
  const x0 = [...beta.to1DArray(), ...psi];
  // Steps: a small fraction of each parameter's natural scale: its SE for β; for ψ_rc its size, but
  // at least 1e-2/(s_r·s_c), s = the RMS of the random-effects columns (a variance ratio ~0.01 on
  // standardised columns), so a boundary fit (ψ ≈ 0) is still differentiated on a sensible scale.
  const rms = Array.from({ length: s.q }, (_, r) => Math.sqrt(s.groups.reduce((a, g) => a + g.ZtZ.get(r, r), 0) / s.n) || 1);
  const psiScale: number[] = [];
  for (let r = 0; r < s.q; r++) for (let c = 0; c <= r; c++) psiScale.push(1e-2 / (rms[r] * rms[c]));
  const h = x0.map((v, j) => (j < p ? 1e-3 * Math.sqrt(covLme4.get(j, j)) : 1e-3 * Math.max(Math.abs(v), psiScale[j - p])));
  const f = (x: number[]) => profiledLogLik(s, Matrix.columnVector(x.slice(0, p)), x.slice(p), reml);
  const H = Matrix.zeros(d, d);
  const f0 = f(x0);
  const at = (j: number, dj: number, k: number, dk: number) => {
    const x = x0.slice(); x[j] += dj * h[j]; if (k >= 0) x[k] += dk * h[k]; return f(x);
  };
  for (let j = 0; j < d; j++) {
    H.set(j, j, (at(j, 1, -1, 0) - 2 * f0 + at(j, -1, -1, 0)) / (h[j] * h[j]));
    for (let k = 0; k < j; k++) {
      const v = (at(j, 1, k, 1) - at(j, 1, k, -1) - at(j, -1, k, 1) + at(j, -1, k, -1)) / (4 * h[j] * h[k]);
      H.set(j, k, v); H.set(k, j, v);
    }
  }
  if (!H.to1DArray().every(Number.isFinite)) return covLme4.clone();
  const cov = inverse(H.mul(-1));
  return cov.subMatrix(0, p - 1, 0, p - 1);
}
