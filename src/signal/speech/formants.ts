/**
 * Formants by linear prediction (openSMILE cLpc + cFormantLpc as configured for eGeMAPS): the
 * predictor (Levinson–Durbin, order 11) of the frame egemaps.ts resamples as cSpecResample does,
 * and each complex root z with Im z > 0 of the polynomial openSMILE roots is a resonance:
 *   F = arg(z) · fs / 2π,   B = −ln|z| · fs / π  (roots outside the unit circle reflected).
 * Roots between 50 Hz and 5450 Hz, in rising frequency, are F1, F2, F3, …
 */

/** Levinson–Durbin: predictor a[0..p] (a[0] = 1) from autocorrelation r[0..p]; null when r[0] = 0. */
export function levinson(r: Float64Array, p: number, scratch?: { a: Float64Array; tmp: Float64Array }): Float64Array | null {
  if (!(r[0] > 0)) return null;
  const a = scratch?.a ?? new Float64Array(p + 1); a.fill(0); a[0] = 1;
  const tmp = scratch?.tmp ?? new Float64Array(p + 1);
  let err = r[0];
  for (let i = 1; i <= p; i++) {
    let acc = r[i];
    for (let j = 1; j < i; j++) acc += a[j] * r[i - j];
    const k = -acc / err;
    tmp.set(a);
    for (let j = 1; j < i; j++) a[j] = tmp[j] + k * tmp[i - j];
    a[i] = k;
    err *= 1 - k * k;
    if (!(err > 0)) return null;
  }
  return a;
}

/**
 * All complex roots of the monic polynomial z^p + c[1] z^{p−1} + … + c[p] (c[0] = 1), by the
 * Aberth–Ehrlich simultaneous iteration, into st.zr, st.zi (started from the roots already there
 * when they have p entries: consecutive frames have similar predictors). False when not finite.
 */
export function polyRoots(c: Float64Array, st: RootState): boolean {
  const p = c.length - 1;
  if (p < 1) return false;
  let zr = st.zr, zi = st.zi;
  if (zr.length !== p) {
    // initial guesses on a circle of radius from the coefficient bound
    let bound = 0; for (let k = 1; k <= p; k++) bound = Math.max(bound, Math.pow(Math.abs(c[k]), 1 / k));
    const R = Math.max(0.5, Math.min(2, bound));
    zr = new Float64Array(p); zi = new Float64Array(p);
    for (let k = 0; k < p; k++) { const th = 2 * Math.PI * k / p + 0.4; zr[k] = R * Math.cos(th); zi[k] = R * Math.sin(th); }
    st.zr = zr; st.zi = zi;
  }
  // a root whose last step was below 1e-10 has converged (the iteration is cubic: its error is far
  // below rounding) and is not updated again; the others still see it in their sums
  if (st.done.length !== p) st.done = new Uint8Array(p);
  const done = st.done; done.fill(0);
  let left = p;
  for (let iter = 0; iter < 80 && left > 0; iter++) {
    for (let k = 0; k < p; k++) {
      if (done[k] !== 0) continue;
      // Horner: value and derivative at z_k
      let vr = 1, vi = 0, dr = 0, di = 0;
      const xr = zr[k], xi = zi[k];
      for (let j = 1; j <= p; j++) {
        // d = d*z + v ; v = v*z + c[j]
        const ndr = dr * xr - di * xi + vr, ndi = dr * xi + di * xr + vi;
        dr = ndr; di = ndi;
        const nvr = vr * xr - vi * xi + c[j], nvi = vr * xi + vi * xr;
        vr = nvr; vi = nvi;
      }
      // ratio = v / d
      const dd = dr * dr + di * di;
      if (dd === 0) { done[k] = 1; left--; continue; } // no step (counted as converged)
      const rr = (vr * dr + vi * di) / dd, ri = (vi * dr - vr * di) / dd;
      // sum 1/(z_k − z_j)
      let sr = 0, si = 0;
      for (let j = 0; j < p; j++) {
        if (j === k) continue;
        const ar = xr - zr[j], ai = xi - zi[j];
        const aa = ar * ar + ai * ai;
        if (aa === 0) continue;
        sr += ar / aa; si += -ai / aa;
      }
      // w = ratio / (1 − ratio · s)
      const br = 1 - (rr * sr - ri * si), bi = -(rr * si + ri * sr);
      const bb = br * br + bi * bi;
      if (bb === 0) { done[k] = 1; left--; continue; }
      const wr = (rr * br + ri * bi) / bb, wi = (ri * br - rr * bi) / bb;
      zr[k] = xr - wr; zi[k] = xi - wi;
      if (Math.abs(wr) + Math.abs(wi) < 1e-10) { done[k] = 1; left--; }
    }
  }
  for (let k = 0; k < p; k++) {
    if (!Number.isFinite(zr[k]) || !Number.isFinite(zi[k])) { st.zr = new Float64Array(0); st.zi = new Float64Array(0); return false; }
  }
  return true;
}

/** Roots carried from one frame to the next as the starting point of the iteration. */
export interface RootState { zr: Float64Array; zi: Float64Array; done: Uint8Array }

/**
 * Formants of the predictor `a` at rate `fs` within [minF, maxF] into freq / bw (ascending), the
 * number found as the result; the roots' state `st` is carried from frame to frame.
 */
export function formantsFromLpc(a: Float64Array, fs: number, minF: number, maxF: number, st: RootState, freq: Float64Array, bw: Float64Array): number {
  if (!polyRoots(a, st)) return 0;
  const zr = st.zr, zi = st.zi;
  let n = 0;
  for (let k = 0; k < zr.length && n < freq.length; k++) {
    const re = zr[k], im = zi[k];
    if (im <= 0) continue;
    const f = Math.atan2(im, re) * fs / (2 * Math.PI);
    if (f < minF || f > maxF) continue;
    // a root outside the unit circle is reflected into it (1/z̄: same angle, modulus 1/|z|), as openSMILE does
    const b = Math.abs(Math.log(Math.hypot(re, im))) * fs / Math.PI;
    let i = n++;
    while (i > 0 && freq[i - 1] > f) { freq[i] = freq[i - 1]; bw[i] = bw[i - 1]; i--; }
    freq[i] = f; bw[i] = b;
  }
  return n;
}
