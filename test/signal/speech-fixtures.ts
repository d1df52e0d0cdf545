/** Synthetic speech-like signals whose answers are known, for the speech tests. */
import { Rng } from '../../src/util/random.js';

/** Sum of harmonics h·f0 (amplitude 1/h) below `maxHz`, with random but fixed phases. */
export function harmonicComplex(f0: number, fs: number, seconds: number, maxHz = 4000, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const n = Math.round(fs * seconds); const x = new Float32Array(n);
  for (let h = 1; h * f0 < maxHz; h++) {
    const ph = rng.uniform(0, 2 * Math.PI); const w = 2 * Math.PI * h * f0 / fs;
    for (let i = 0; i < n; i++) x[i] += Math.sin(w * i + ph) / h;
  }
  let m = 0; for (const v of x) m = Math.max(m, Math.abs(v));
  for (let i = 0; i < n; i++) x[i] *= 0.3 / m;
  return x;
}

export interface PulseOptions {
  f0: number; fs: number; seconds: number;
  /** Relative period perturbation: T_i = T0 (1 + jitter · u_i), u_i uniform in [−1, 1]. */
  jitter?: number;
  /** Relative amplitude perturbation: A_i = 1 + shimmer · u_i. */
  shimmer?: number;
  /** Formants [Hz] and bandwidths [Hz] of the vocal-tract filter (default an /a/). */
  formants?: Array<[number, number]>;
  seed?: number;
}

/**
 * Glottal source (Rosenberg pulses evaluated in continuous time, so any period is exact)
 * through a cascade of two-pole resonators (a vowel), then lip radiation (first difference).
 */
export function vowel(o: PulseOptions): Float32Array {
  const { f0, fs, seconds } = o;
  const rng = new Rng(o.seed ?? 7);
  const n = Math.round(fs * seconds);
  const src = new Float64Array(n);
  let t0 = 0; let i = 0;
  while (i < n) {
    const T = (1 / f0) * (1 + (o.jitter ?? 0) * rng.uniform(-1, 1));
    const A = 1 + (o.shimmer ?? 0) * rng.uniform(-1, 1);
    const t1 = t0 + T;
    const open = 0.4 / f0, close = 0.16 / f0; // the same pulse each period: only its onset (and size) varies
    for (; i < n && i / fs < t1; i++) {
      const tau = i / fs - t0;
      src[i] = tau < open ? A * 0.5 * (1 - Math.cos(Math.PI * tau / open))
        : tau < open + close ? A * Math.cos(Math.PI * (tau - open) / (2 * close)) : 0;
    }
    t0 = t1;
  }
  let y = src;
  for (const [F, B] of o.formants ?? [[700, 80], [1220, 90], [2600, 120]]) {
    const r = Math.exp(-Math.PI * B / fs); const th = 2 * Math.PI * F / fs;
    const a1 = 2 * r * Math.cos(th), a2 = -r * r, g = 1 - a1 - a2;
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = g * y[k] + a1 * (k > 0 ? out[k - 1] : 0) + a2 * (k > 1 ? out[k - 2] : 0);
    y = out;
  }
  const x = new Float32Array(n);
  let m = 0;
  for (let k = 1; k < n; k++) { x[k] = y[k] - y[k - 1]; m = Math.max(m, Math.abs(x[k])); }
  for (let k = 0; k < n; k++) x[k] *= 0.3 / m;
  return x;
}

export function tone(f: number, fs: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(fs * seconds); const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin(2 * Math.PI * f * i / fs);
  return x;
}

export function rms(x: Float32Array, a = 0, b = x.length): number {
  let s = 0; for (let i = a; i < b; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, b - a));
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
