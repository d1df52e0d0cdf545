/** Signals with known answers for the actigraphy tests (generated, nothing read from disk). */
import type { AccelChunk } from '../../src/signal/actigraphy/index.js';
import { Rng } from '../../src/util/random.js';

/** 2023-11-14T22:14:00Z — a whole minute, so epochs start with the signal. */
export const T0 = 1_700_000_040;

export interface Piece {
  seconds: number; f?: number; amp?: number; noise?: number; gap?: boolean;
  /** Slow arm sway on x and y (g), so that movement shows on every axis as on a real wrist. */
  sway?: number;
}

/**
 * Tri-axial signal at `rate` Hz made of pieces: gravity on z (1 g) plus a sine on z of
 * frequency f and amplitude amp (so the vector magnitude is 1 + amp·sin), plus Gaussian noise on
 * every axis, plus an optional slow sway on x and y; a gap piece has no samples.
 */
export function makeSignal(rate: number, pieces: Piece[], seed = 1, t0 = T0): AccelChunk {
  const rng = new Rng(seed);
  const total = pieces.reduce((s, p) => s + (p.gap ? 0 : Math.round(p.seconds * rate)), 0);
  const t = new Float64Array(total), x = new Float64Array(total), y = new Float64Array(total), z = new Float64Array(total);
  let k = 0, clock = 0;
  for (const p of pieces) {
    const n = Math.round(p.seconds * rate);
    if (!p.gap) {
      for (let i = 0; i < n; i++) {
        const s = (clock + i) / rate;
        const e = p.noise ?? 0;
        t[k] = t0 + s;
        const w = p.sway ?? 0;
        x[k] = w * Math.sin(2 * Math.PI * 0.3 * s) + e * rng.normal();
        y[k] = w * Math.cos(2 * Math.PI * 0.2 * s) + e * rng.normal();
        z[k] = 1 + (p.amp ?? 0) * Math.sin(2 * Math.PI * (p.f ?? 0) * s) + e * rng.normal();
        k++;
      }
    }
    clock += n;
  }
  return { n: total, t, x, y, z, rate };
}

/** Split a chunk into random-sized consecutive pieces (copies, as a reader would hand out). */
export function randomPieces(c: AccelChunk, seed: number, maxLen = 5000): AccelChunk[] {
  const rng = new Rng(seed);
  const out: AccelChunk[] = [];
  for (let i = 0; i < c.n;) {
    const len = Math.min(c.n - i, 1 + rng.int(maxLen));
    out.push({ n: len, t: c.t.slice(i, i + len), x: c.x.slice(i, i + len), y: c.y.slice(i, i + len), z: c.z.slice(i, i + len), rate: c.rate });
    i += len;
  }
  return out;
}

/** Split bytes into random-sized pieces (1 … maxLen bytes). */
export function randomByteChunks(b: Uint8Array, seed: number, maxLen = 3000): Uint8Array[] {
  const rng = new Rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length;) { const len = Math.min(b.length - i, 1 + rng.int(maxLen)); out.push(b.slice(i, i + len)); i += len; }
  return out;
}
