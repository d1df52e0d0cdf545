/**
 * Evaluation metrics. Pure functions over numeric arrays; NaN pairs are skipped.
 */

/**
 * Concordance correlation coefficient (Lin 1989), population (divide-by-n) moments:
 *   CCC = 2·cov(x,y) / (σx² + σy² + (μx − μy)²)
 * NaN when fewer than 2 complete pairs or when the denominator is 0.
 */
export function ccc(actual: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i], y = predicted[i];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    n++; sx += x; sy += y;
  }
  if (n < 2) return NaN;
  const mx = sx / n, my = sy / n;
  let vx = 0, vy = 0, cxy = 0;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i], y = predicted[i];
    if (Number.isNaN(x) || Number.isNaN(y)) continue;
    vx += (x - mx) ** 2; vy += (y - my) ** 2; cxy += (x - mx) * (y - my);
  }
  vx /= n; vy /= n; cxy /= n;
  const den = vx + vy + (mx - my) ** 2;
  return den === 0 ? NaN : (2 * cxy) / den;
}
