/**
 * Short-time spectra on top of fft.js (MIT, pure JS, works in the browser): windows, framing, and
 * a reusable real FFT that returns magnitudes or power.
 */
import FFT from 'fft.js';

export function nextPow2(n: number): number { let p = 1; while (p < n) p <<= 1; return p; }

/** Hamming window (the 20 ms spectral frames of eGeMAPS). */
export function hamming(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.54 - 0.46 * Math.cos(2 * Math.PI * i / (n - 1));
  return w;
}

/** Gaussian window exp(−½((i − (n−1)/2) / (σ (n−1)/2))²) (the 60 ms pitch frames, σ = 0.4). */
export function gauss(n: number, sigma = 0.4): Float64Array {
  const w = new Float64Array(n);
  const h = (n - 1) / 2;
  for (let i = 0; i < n; i++) { const z = (i - h) / (sigma * h); w[i] = Math.exp(-0.5 * z * z); }
  return w;
}

/** A real FFT of fixed size with scratch buffers (not thread-safe; one per extractor). */
export class RealFft {
  private fft: FFT;
  private out: number[];
  private inp: Float64Array;
  constructor(public readonly size: number) {
    this.fft = new FFT(size);
    this.out = this.fft.createComplexArray() as number[];
    this.inp = new Float64Array(size);
  }

  /** The FFT of `frame` zero-padded to size, into this.out (interleaved re, im). */
  private transform(frame: ArrayLike<number>): number[] {
    const inp = this.inp;
    const n = Math.min(frame.length, this.size);
    for (let i = 0; i < n; i++) inp[i] = frame[i];
    inp.fill(0, n);
    this.fft.realTransform(this.out, inp);
    return this.out;
  }

  /** Power |X_k|² for k = 0..size/2 of `frame` (zero-padded to size). */
  power(frame: ArrayLike<number>, dst: Float64Array): Float64Array {
    const o = this.transform(frame);
    for (let k = 0; k <= this.size / 2; k++) dst[k] = o[2 * k] * o[2 * k] + o[2 * k + 1] * o[2 * k + 1];
    return dst;
  }

  /** Complex spectrum X_k = Σ x_n e^{−2πikn/N}, k = 0..size/2 (re, im), of `frame` zero-padded to size. */
  complex(frame: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const o = this.transform(frame);
    for (let k = 0; k <= this.size / 2; k++) { re[k] = o[2 * k]; im[k] = o[2 * k + 1]; }
  }

  /**
   * The transform's input buffer (size values): a caller may window its frame straight into the
   * first `len` values and then call `powerOfInput(len, …)` / `complexOfInput(len, …)`, which zero
   * the rest (saves the copy `power` / `complex` make).
   */
  get input(): Float64Array { return this.inp; }

  /** Power |X_k|², k = 0..size/2, of the first `len` values of `input` (zero-padded) into dst[offset + k]. */
  powerOfInput(len: number, dst: Float64Array, offset = 0): void {
    this.inp.fill(0, len);
    const o = this.out;
    this.fft.realTransform(o, this.inp);
    const h = this.size / 2;
    for (let k = 0; k <= h; k++) { const re = o[2 * k], im = o[2 * k + 1]; dst[offset + k] = re * re + im * im; }
  }

  /** Complex spectrum (re, im), k = 0..size/2, of the first `len` values of `input` (zero-padded). */
  complexOfInput(len: number, re: Float64Array, im: Float64Array): void {
    this.inp.fill(0, len);
    const o = this.out;
    this.fft.realTransform(o, this.inp);
    for (let k = 0; k <= this.size / 2; k++) { re[k] = o[2 * k]; im[k] = o[2 * k + 1]; }
  }

  /** Autocorrelation r(τ), τ = 0..size/2, from a one-sided power spectrum (Wiener–Khinchin). */
  acfFromPower(power: Float64Array, dst: Float64Array): Float64Array {
    const inp = this.inp; const N = this.size;
    for (let k = 0; k <= N / 2; k++) inp[k] = power[k];
    for (let k = N / 2 + 1; k < N; k++) inp[k] = power[N - k];
    this.fft.realTransform(this.out, inp);
    for (let t = 0; t <= N / 2; t++) dst[t] = this.out[2 * t] / N;
    return dst;
  }
}

/** Copy the frame centred on `center` (length `len`, zero outside the signal) times `win`, minus the frame mean when `demean`. */
export function windowedFrame(x: Float32Array, center: number, len: number, win: Float64Array, dst: Float64Array, demean = false): Float64Array {
  const start = center - (len >> 1);
  let mean = 0;
  if (demean) {
    let c = 0;
    for (let i = 0; i < len; i++) { const j = start + i; if (j >= 0 && j < x.length) { mean += x[j]; c++; } }
    mean = c > 0 ? mean / c : 0;
  }
  for (let i = 0; i < len; i++) {
    const j = start + i;
    dst[i] = j >= 0 && j < x.length ? (x[j] - mean) * win[i] : 0;
  }
  return dst;
}

/** The vertex of the parabola through three points (openSMILE's smileMath_quadFrom3pts), written into `quad`. */
export const quad = { x: 0, y: 0 };
export function quadFrom3pts(x1: number, y1: number, x2: number, y2: number, x3: number, y3: number): void {
  const den = x1 * x1 * x2 + x2 * x2 * x3 + x3 * x3 * x1 - x3 * x3 * x2 - x2 * x2 * x1 - x1 * x1 * x3;
  if (den !== 0) {
    const a = (y1 * x2 + y2 * x3 + y3 * x1 - y3 * x2 - y2 * x1 - y1 * x3) / den;
    const b = (x1 * x1 * y2 + x2 * x2 * y3 + x3 * x3 * y1 - x3 * x3 * y2 - x2 * x2 * y1 - x1 * x1 * y3) / den;
    const c = (x1 * x1 * x2 * y3 + x2 * x2 * x3 * y1 + x3 * x3 * x1 * y2 - x3 * x3 * x2 * y1 - x2 * x2 * x1 * y3 - x1 * x1 * x3 * y2) / den;
    if (a !== 0) { quad.x = -b / (2 * a); quad.y = c - a * quad.x * quad.x; return; }
  }
  // no parabola: the highest of the three (the first when none is)
  if (y1 > y2 && y1 > y3) { quad.x = x1; quad.y = y1; } else if (y2 > y1 && y2 > y3) { quad.x = x2; quad.y = y2; } else if (y3 > y1 && y3 > y2) { quad.x = x3; quad.y = y3; } else { quad.x = x1; quad.y = y1; }
}
