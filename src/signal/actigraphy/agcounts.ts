/**
 * ActiGraph activity counts after the published open method: Brønd JC, Andersen LB, Arvidsson D.
 * "Generating ActiGraph Counts from Raw Acceleration Recorded by an Alternative Monitor",
 * Med Sci Sports Exerc 2017;49(11):2351–2360, as released by ActiGraph in the `agcounts` Python
 * package (`agcounts/extract.py`, the default "fast" path). Streaming, one axis per instance:
 *
 *  1. resample to 30 Hz: upsample by L (zero insertion), first-order low-pass
 *     y[k] = a·L·(u[k] + u[k−1]) − b·y[k−1] with a = π/(π+2L), b = (π−2L)/(π+2L)
 *     (skipped at 30, 60, 90 Hz), keep every M-th value (L/M: 40 Hz 3/4, 50 Hz 3/5, 60 Hz 1/2,
 *     70 Hz 3/7, 80 Hz 3/8, 90 Hz 1/3, 100 Hz 3/10);
 *  2. round to 3 decimals (the monitor's resolution; numpy rounds half to even, so do we);
 *  3. ActiLife's 8th-order IIR band-pass (the coefficients below), started in its steady state
 *     for the first value (scipy `lfilter_zi · x₀`), times the gain (3/4096)/(2.6/256)·237.5;
 *  4. rectify and trim: |y| < 4 → 0, |y| > 128 → 128, else ⌊|y|⌋;
 *  5. 10 Hz: ⌊mean of each 3 consecutive values⌋; an epoch's count is the sum of its 10 Hz values.
 *
 * Approximation: other sample rates (e.g. the 12.5/25/200 Hz of Axivity devices, 32 Hz, 64 Hz),
 * which `agcounts` refuses, are brought to 30 Hz here by a 4th-order Butterworth low-pass at
 * 10 Hz and linear interpolation; counts from such rates are close to, not equal to, ActiLife's.
 */
import { SosFilter, butterworth } from './butterworth.js';

/** Band-pass numerator of ActiLife (agcounts INPUT_COEFFICIENTS; the 9th is 0 in the source). */
export const AG_B = [
  -0.009341062898525, -0.025470289659360, -0.004235264826105, 0.044152415456420,
  0.036493718347760, -0.011893961934740, -0.022917390623150, -0.006788163862310, 0,
];
/** Band-pass denominator (agcounts OUTPUT_COEFFICIENTS). */
export const AG_A = [
  1, -3.63367395910957, 5.03689812757486, -3.09612247819666,
  0.50620507633883, 0.32421701566682, -0.15685485875559, 0.01949130205890, 0,
];
/** (3/4096)/(2.6/256)·237.5 = 17.127404 (ActiLife; the firmware uses 17.128125). */
export const AG_GAIN = (3.0 / 4096.0) / (2.6 / 256.0) * 237.5;

/** Up/down factors of agcounts for the rates it supports (30, 40, …, 100 Hz). */
export function agFactors(rate: number): { L: number; M: number } | null {
  const table: Record<number, [number, number]> = {
    30: [1, 1], 40: [3, 4], 50: [3, 5], 60: [1, 2], 70: [3, 7], 80: [3, 8], 90: [1, 3], 100: [3, 10],
  };
  const f = table[rate];
  return f ? { L: f[0], M: f[1] } : null;
}

/** scipy.signal.lfilter_zi: the DF-II-transposed state for a unit step in steady state. */
export function lfilterZi(b: readonly number[], a: readonly number[]): Float64Array {
  const n = Math.max(a.length, b.length) - 1;
  const A = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n + 1);
    row[i] += 1;                        // I
    row[0] += a[i + 1] ?? 0;            // − companion(a)ᵀ, first column is −a[1:]
    if (i + 1 < n) row[i + 1] -= 1;     // − superdiagonal ones
    row[n] = (b[i + 1] ?? 0) - (a[i + 1] ?? 0) * b[0];
    return row;
  });
  // Gaussian elimination with partial pivoting on the augmented matrix.
  for (let col = 0; col < n; col++) {
    let p = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r][col]) > Math.abs(A[p][col])) p = r;
    [A[col], A[p]] = [A[p], A[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r][col] / A[col][col];
      if (f !== 0) for (let c = col; c <= n; c++) A[r][c] -= f * A[col][c];
    }
  }
  return Float64Array.from({ length: n }, (_, i) => A[i][n] / A[i][i]);
}

const ZI = lfilterZi(AG_B, AG_A);
const ORDER = ZI.length;

/** numpy.round(x, 3): round half to even at the third decimal. */
function round3(x: number): number {
  const v = x * 1000, r = Math.round(v);
  return (Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) / 1000;
}

/**
 * Streaming ActiGraph counts of one axis. Feed raw samples (g) with `push`; `take()` returns the
 * sum of the 10 Hz counts completed since the last `take()` (the caller attributes it to its
 * epoch). `restart()` after a gap in the recording.
 */
export class AgCounter {
  private readonly L: number; private readonly M: number;
  private readonly lpf: boolean;
  private readonly aL: number; private readonly bLp: number;
  private readonly resampler: LinearResampler | null;
  private uPrev = 0; private yPrev = 0; private phase = 0;
  private readonly z = new Float64Array(ORDER);
  private started = false;
  private group = 0; private groupN = 0;
  private pending = 0;

  constructor(readonly rate: number) {
    const f = agFactors(rate);
    if (f) {
      this.L = f.L; this.M = f.M; this.resampler = null;
    } else {
      this.L = 1; this.M = 1; this.resampler = new LinearResampler(rate, 30);
    }
    this.lpf = f !== null && ![30, 60, 90].includes(rate);
    this.aL = Math.PI / (Math.PI + 2 * this.L) * this.L;
    this.bLp = (Math.PI - 2 * this.L) / (Math.PI + 2 * this.L);
  }

  push(x: number): void {
    if (this.resampler) { this.resampler.push(x, (v) => this.at30(v)); return; }
    for (let k = 0; k < this.L; k++) {
      const u = k === 0 ? x : 0;
      let o = u;
      if (this.lpf) { o = this.aL * (u + this.uPrev) - this.bLp * this.yPrev; this.uPrev = u; this.yPrev = o; }
      if (this.phase === 0) this.at30(o);
      if (++this.phase === this.M) this.phase = 0;
    }
  }

  /** One 30 Hz value through band-pass, gain, trim and the 10 Hz mean. */
  private at30(v: number): void {
    const d = round3(v);
    const z = this.z;
    if (!this.started) { for (let i = 0; i < ORDER; i++) z[i] = ZI[i] * d; this.started = true; }
    const y = AG_B[0] * d + z[0];
    for (let i = 0; i < ORDER - 1; i++) z[i] = AG_B[i + 1] * d - AG_A[i + 1] * y + z[i + 1];
    z[ORDER - 1] = AG_B[ORDER] * d - AG_A[ORDER] * y;
    const a = Math.abs(y * AG_GAIN);
    const trimmed = a < 4 ? 0 : a > 128 ? 128 : Math.floor(a);
    this.group += trimmed;
    if (++this.groupN === 3) { this.pending += Math.floor(this.group / 3); this.group = 0; this.groupN = 0; }
  }

  /** Counts completed since the last call. */
  take(): number { const p = this.pending; this.pending = 0; return p; }

  /** Start afresh (after a gap): filters re-settle on the next sample, partial 10 Hz group dropped. */
  restart(): void {
    this.uPrev = 0; this.yPrev = 0; this.phase = 0; this.started = false;
    this.group = 0; this.groupN = 0;
    this.resampler?.restart();
  }
}

/** Anti-aliased linear-interpolation resampler (the approximation for rates agcounts lacks). */
class LinearResampler {
  private readonly aa: SosFilter | null;
  private i = 0;           // input index in the segment
  private next = 0;        // next output time, in input samples
  private prev = 0;
  private readonly ratio: number;

  constructor(fin: number, fout: number) {
    this.ratio = fin / fout;
    this.aa = fin > 25 ? new SosFilter(butterworth('low', 4, 10, fin)) : null;
  }

  push(x: number, out: (v: number) => void): void {
    let v = x;
    if (this.aa) { if (this.i === 0) this.aa.settle(x); v = this.aa.step(x); }
    if (this.i === 0) { this.prev = v; }
    while (this.next <= this.i) {
      const frac = this.next - (this.i - 1);
      out(this.i === 0 ? v : this.prev + (v - this.prev) * frac);
      this.next += this.ratio;
    }
    this.prev = v; this.i++;
  }

  restart(): void { this.i = 0; this.next = 0; this.aa?.reset(); }
}
