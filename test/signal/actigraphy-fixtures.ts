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

// ---------------------------------------------------------------------------------------------
// Axivity .cwa, built byte by byte after Open Movement's cwa.h (independent of the reader).

/** Packed CWA timestamp of a wall-clock time (seconds since 1970, read as UTC). */
export function cwaPack(wall: number): number {
  const d = new Date(Math.floor(wall) * 1000);
  return (((d.getUTCFullYear() - 2000) << 26) | ((d.getUTCMonth() + 1) << 22) | (d.getUTCDate() << 17) |
    (d.getUTCHours() << 12) | (d.getUTCMinutes() << 6) | d.getUTCSeconds()) >>> 0;
}

/** The 1024-byte header block ("MD"). */
export function cwaHeaderBlock(o: { rateCode: number; deviceId?: number; sessionId?: number; start?: number; metadata?: string }): Uint8Array {
  const b = new Uint8Array(1024).fill(0xff);
  const v = new DataView(b.buffer);
  b[0] = 0x4d; b[1] = 0x44;                         // "MD"
  v.setUint16(2, 1020, true);                       // packetLength
  b[4] = 0x17;                                      // AX3
  v.setUint16(5, o.deviceId ?? 4321, true);
  v.setUint32(7, o.sessionId ?? 77, true);
  v.setUint16(11, 0, true);
  v.setUint32(13, o.start !== undefined ? cwaPack(o.start) : 0, true);
  v.setUint32(17, 0xffffffff, true);
  b[36] = o.rateCode;
  const meta = o.metadata ?? '_c=test&_s=moodlens';
  for (let i = 0; i < 448; i++) b[64 + i] = i < meta.length ? meta.charCodeAt(i) : 0x20;
  return b;
}

export interface CwaBlockSpec {
  seq: number;
  /** Wall-clock time of the first sample. */
  first: number;
  rateCode: number;
  /** Samples in g. */
  samples: number[][];
  /** 0 = 3×10-bit packed in 32 bits (120 per block), 2 = 3×16-bit (80 per block). */
  packing: 0 | 2;
  /** Unpacked scale: 1/2^(8+n) g. */
  scaleN?: number;
  /** Store the fraction of a second in deviceFractional (else the first sample must sit on a whole-second grid). */
  fractional?: boolean;
  sessionId?: number;
}

/** One 512-byte data block ("AX") with its checksum. */
export function cwaDataBlock(s: CwaBlockSpec): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  const freq = 3200 / (1 << (15 - (s.rateCode & 0x0f)));
  b[0] = 0x41; b[1] = 0x58;                         // "AX"
  v.setUint16(2, 508, true);
  v.setUint32(6, s.sessionId ?? 77, true);
  v.setUint32(10, s.seq, true);
  const n = s.scaleN ?? 0;
  v.setUint16(18, (n << 13) | 100, true);           // accel scale n, light 100
  v.setUint16(20, 300, true);
  b[22] = 0; b[23] = 200;
  b[24] = s.rateCode;
  b[25] = s.packing === 0 ? 0x30 : 0x32;
  v.setUint16(28, s.samples.length, true);
  if (s.fractional) {
    const whole = Math.floor(s.first);
    const f16 = Math.round((s.first - whole) * 65536) & 0xfffe;
    v.setUint16(4, 0x8000 | (f16 >> 1), true);
    v.setUint32(14, cwaPack(whole), true);
    v.setInt16(26, -((f16 * Math.trunc(freq)) >> 16), true);   // the backwards-compatible shift
  } else {
    // timestampOffset: index of the sample that falls on the next whole second.
    const whole = Math.ceil(s.first - 1e-9);
    const k = Math.round((whole - s.first) * freq);
    v.setUint16(4, 1234, true);                      // device id (top bit clear: no fraction)
    v.setUint32(14, cwaPack(whole), true);
    v.setInt16(26, k, true);
  }
  s.samples.forEach((xyz, i) => {
    if (s.packing === 2) {
      xyz.forEach((g, a) => v.setInt16(30 + 6 * i + 2 * a, Math.round(g * (1 << (8 + n))), true));
    } else {
      const raw = xyz.map((g) => Math.round(g * 256));
      let e = 0;
      while (e < 3 && raw.some((r) => (r >> e) < -512 || (r >> e) > 511)) e++;
      const [x, y, z] = raw.map((r) => (r >> e) & 0x3ff);
      v.setUint32(30 + 4 * i, ((e << 30) | (z << 20) | (y << 10) | x) >>> 0, true);
    }
  });
  let sum = 0;
  for (let i = 0; i < 510; i += 2) sum = (sum + v.getUint16(i, true)) & 0xffff;
  v.setUint16(510, (0x10000 - sum) & 0xffff, true);
  return b;
}

/** A whole .cwa file of a signal: blocks of 80 (16-bit) or 120 (packed) samples. */
export function cwaFile(c: AccelChunk, rateCode: number, packing: 0 | 2 = 2, fractional = true): Uint8Array {
  const per = packing === 2 ? 80 : 120;
  const blocks: Uint8Array[] = [cwaHeaderBlock({ rateCode, start: c.t[0] })];
  for (let i = 0, seq = 0; i < c.n; i += per, seq++) {
    const m = Math.min(per, c.n - i);
    const samples = Array.from({ length: m }, (_, j) => [c.x[i + j], c.y[i + j], c.z[i + j]]);
    blocks.push(cwaDataBlock({ seq, first: c.t[i], rateCode, samples, packing, fractional }));
  }
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of blocks) { out.set(b, o); o += b.length; }
  return out;
}

/**
 * A deterministic 3-axis movement signal (no RNG, values rounded to 4 decimals) for comparing
 * ActiGraph counts with the output of ActiGraph's own `agcounts` Python package on the same numbers.
 */
export function agSignal(rate: number, seconds: number): AccelChunk {
  const n = rate * seconds;
  const t = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n), z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = i / rate, amp = 0.1 + 0.4 * Math.abs(Math.sin(s / 50));
    t[i] = T0 + s;
    x[i] = +(amp * Math.sin(2 * Math.PI * 1.3 * s) + 0.05 * Math.sin(12345.678 * i)).toFixed(4);
    y[i] = +(0.3 * Math.sin(2 * Math.PI * 0.7 * s + 1) * (s % 120 < 60 ? 1 : 0.1)).toFixed(4);
    z[i] = +(1 + 0.2 * Math.sin(2 * Math.PI * 2.4 * s) + 0.02 * Math.sin(98765.4321 * i)).toFixed(4);
  }
  return { n, t, x, y, z, rate };
}
