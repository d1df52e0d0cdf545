/**
 * Butterworth filters designed in code (bilinear transform with frequency pre-warping) and run
 * as a cascade of second-order sections whose state survives across chunks, so a signal
 * filtered chunk by chunk equals the signal filtered whole.
 *
 * Design: the analog Butterworth prototype of order n has poles on the unit circle at angles
 * θ_k = π(2k+1)/(2n); each conjugate pair is the analog section s² + (ω_c/Q_k)s + ω_c² with
 * Q_k = 1 / (2 sin θ_k)  (k = 0 … n/2−1), and an odd order adds the first-order section s + ω_c.
 * The bilinear transform s = 2f_s (1−z⁻¹)/(1+z⁻¹), with ω_c pre-warped to 2f_s·tan(π f_c/f_s),
 * gives with K = tan(π f_c / f_s) and N = 1 + K/Q + K²:
 *   low-pass : b = [K², 2K², K²]/N,  a = [1, 2(K²−1)/N, (1 − K/Q + K²)/N]
 *   high-pass: b = [1, −2, 1]/N,     a as above
 * A band-pass [f_lo, f_hi] is the cascade of a high-pass at f_lo and a low-pass at f_hi, each of
 * the given order. For 0.25–3 Hz at order 4 this is within 0.25 dB of scipy's single
 * low-pass→band-pass design (`butter(4, [0.25, 3], 'bandpass')`) in the pass band, -3 dB at both
 * edges alike, and 2–3 dB less steep in the stop band.
 */

/** One second-order section, Direct Form II transposed: y = b0·x + s1; s1 = b1·x − a1·y + s2; s2 = b2·x − a2·y. */
export interface Biquad { b0: number; b1: number; b2: number; a1: number; a2: number }

function butterQs(order: number): number[] {
  const qs: number[] = [];
  for (let k = 0; k < Math.floor(order / 2); k++) qs.push(1 / (2 * Math.sin(Math.PI * (2 * k + 1) / (2 * order))));
  return qs;
}

function checkCutoff(fc: number, fs: number): void {
  if (!(fc > 0 && fc < fs / 2)) throw new RangeError(`cut-off ${fc} Hz must lie in (0, ${fs / 2}) Hz for a sample rate of ${fs} Hz`);
}

/** Butterworth low-pass (kind 'low') or high-pass (kind 'high') of the given order as biquads. */
export function butterworth(kind: 'low' | 'high', order: number, fc: number, fs: number): Biquad[] {
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`filter order must be a positive integer, got ${order}`);
  checkCutoff(fc, fs);
  const K = Math.tan(Math.PI * fc / fs);
  const sections: Biquad[] = [];
  for (const Q of butterQs(order)) {
    const N = 1 + K / Q + K * K;
    const a1 = 2 * (K * K - 1) / N, a2 = (1 - K / Q + K * K) / N;
    sections.push(kind === 'low'
      ? { b0: K * K / N, b1: 2 * K * K / N, b2: K * K / N, a1, a2 }
      : { b0: 1 / N, b1: -2 / N, b2: 1 / N, a1, a2 });
  }
  if (order % 2 === 1) {
    // First-order section (s + ω_c) → bilinear: N = 1 + K.
    const N = 1 + K, a1 = (K - 1) / N;
    sections.push(kind === 'low'
      ? { b0: K / N, b1: K / N, b2: 0, a1, a2: 0 }
      : { b0: 1 / N, b1: -1 / N, b2: 0, a1, a2: 0 });
  }
  return sections;
}

/** Butterworth band-pass [lo, hi] Hz: high-pass at lo cascaded with low-pass at hi, each of `order`. */
export function butterworthBandPass(order: number, lo: number, hi: number, fs: number): Biquad[] {
  if (!(lo < hi)) throw new RangeError(`band-pass needs lo < hi, got ${lo}–${hi} Hz`);
  return [...butterworth('high', order, lo, fs), ...butterworth('low', order, hi, fs)];
}

/** Magnitude response |H(e^{jω})| of a cascade at frequency f (Hz). */
export function magnitudeAt(sections: readonly Biquad[], f: number, fs: number): number {
  const w = 2 * Math.PI * f / fs;
  const c1 = Math.cos(w), s1 = Math.sin(w), c2 = Math.cos(2 * w), s2 = Math.sin(2 * w);
  let mag = 1;
  for (const q of sections) {
    const nr = q.b0 + q.b1 * c1 + q.b2 * c2, ni = -(q.b1 * s1 + q.b2 * s2);
    const dr = 1 + q.a1 * c1 + q.a2 * c2, di = -(q.a1 * s1 + q.a2 * s2);
    mag *= Math.hypot(nr, ni) / Math.hypot(dr, di);
  }
  return mag;
}

/** A cascade of biquads with its state: feed samples one at a time, across any chunking. */
export class SosFilter {
  private readonly c: Float64Array;   // 5 coefficients per section
  private readonly s: Float64Array;   // 2 states per section
  readonly sections: number;

  constructor(sections: readonly Biquad[]) {
    this.sections = sections.length;
    this.c = new Float64Array(sections.length * 5);
    this.s = new Float64Array(sections.length * 2);
    sections.forEach((q, i) => this.c.set([q.b0, q.b1, q.b2, q.a1, q.a2], i * 5));
  }

  /** Filter one sample. */
  step(x: number): number {
    const c = this.c, s = this.s;
    let v = x;
    for (let i = 0, k = 0, j = 0; i < this.sections; i++, k += 5, j += 2) {
      const y = c[k] * v + s[j];
      s[j] = c[k + 1] * v - c[k + 3] * y + s[j + 1];
      s[j + 1] = c[k + 2] * v - c[k + 4] * y;
      v = y;
    }
    return v;
  }

  /**
   * Set the state to the steady state for a constant input x0 (as scipy's `lfilter_zi · x0`), so
   * a recording or a segment after a gap does not start with the step response of its offset.
   */
  settle(x0: number): void {
    const c = this.c, s = this.s;
    let v = x0;
    for (let i = 0, k = 0, j = 0; i < this.sections; i++, k += 5, j += 2) {
      const dc = (c[k] + c[k + 1] + c[k + 2]) / (1 + c[k + 3] + c[k + 4]);
      const y = dc * v;
      s[j + 1] = c[k + 2] * v - c[k + 4] * y;
      s[j] = c[k + 1] * v - c[k + 3] * y + s[j + 1];
      v = y;
    }
  }

  reset(): void { this.s.fill(0); }
}
