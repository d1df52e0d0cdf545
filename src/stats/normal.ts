/**
 * The standard normal distribution, for the Wald tests of the mixed model (z, two-sided p, CI).
 * Pure; browser-safe.
 */

/** Φ⁻¹(0.975): the 95 % two-sided normal quantile (scipy.stats.norm.ppf(0.975)). */
export const Z_95 = 1.959963984540054;

/**
 * Complementary error function erfc(x) to ~1e-15 relative accuracy for x ≥ 0:
 *  - x < 2.5: erf from the positive series  erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)),
 *    then erfc = 1 − erf;
 *  - x ≥ 2.5: the continued fraction  erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))),
 *    evaluated with the modified Lentz method, so tiny tails (p ≈ 1e-150) keep their relative accuracy.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0; // below the smallest double
  // Lentz: f = x + a1/(x + a2/(x + …)), aₖ = k/2.
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    D = x + a * D; if (D === 0) D = tiny; D = 1 / D;
    C = x + a / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** Upper tail P(Z > z) of the standard normal. */
export function normalSf(z: number): number { return 0.5 * erfc(z / Math.SQRT2); }

/** Φ(z) = P(Z ≤ z). */
export function normalCdf(z: number): number { return 0.5 * erfc(-z / Math.SQRT2); }

/** Two-sided p-value of a Wald z statistic: 2·P(Z > |z|). */
export function twoSidedP(z: number): number { return Number.isNaN(z) ? NaN : 2 * normalSf(Math.abs(z)); }
