/**
 * Jitter (local) and shimmer (local, dB) per 10 ms frame, with the definitions of openSMILE's
 * cPitchJitter as eGeMAPSv02 configures it (searchRangeRel 0.1, minNumPeriods 2, minCC 0.5, the
 * fixed correlation threshold, peak-to-peak amplitudes, periods from the correlation peak). Written
 * from the behaviour of that component (read in audeering/opensmile; no code copied):
 *
 * The waveform is walked period by period, frame after frame, carrying the position over: each
 * frame reads from where the previous frame's last period mark inside its own 10 ms hop left off,
 * `hop + carried` samples (at least 2·ceil(1.1·T0) + 2 and at most `carried + len60`). Inside the
 * read block, from its start, while at least two maximal periods and one sample remain: the
 * Pearson correlation (means removed) of the next L samples with the L after them for every L in
 * [floor(0.9·T0), ceil(1.1·T0)] (T0 = fs / F0 of the frame, rounded: T0r); the highest strict local
 * maximum of that curve over its inner lags (the last two never count). Without one, the mark moves on
 * by T0r and nothing is counted; with one at L, the mark moves on by L, the peak is refined by a
 * parabola (value c, position L̂), the peak-to-peak amplitudes of the two L-sample periods
 * (maximum − minimum over all but their first and last samples) are taken, and if c > 0.5 the
 * period L̂/fs enters the frame: |L̂ − L̂_prev| (the previous accepted period, kept across voiced
 * frames) into the jitter sum, the two amplitudes' mean and their absolute difference into the
 * shimmer sums. Per frame: jitter = mean |ΔT| / mean T, shimmer = 20 log10(1 + Σ|ΔA| / Σ mean A);
 * a voiced frame where no period passed repeats the previous frame's values; an unvoiced frame
 * gives 0 and forgets the previous period.
 */

import { quad, quadFrom3pts } from './spectrum.js';

export interface JitterResult { jitter: Float64Array; shimmer: Float64Array }

/**
 * Pearson correlation of x[a..a+n) and x[b..b+n) (means removed), with the sums and sums of squares
 * from the prefix sums ps, ps2 of x (ps[i] = Σ_{j<i} x[j]).
 */
function pearsonAt(x: Float64Array, ps: Float64Array, ps2: Float64Array, a: number, b: number, n: number): number {
  let sxy = 0;
  for (let i = 0; i < n; i++) sxy += x[a + i] * x[b + i];
  return pearsonFrom(sxy, ps, ps2, a, b, n);
}

/** The Pearson correlation from the cross sum sxy of x[a..a+n) and x[b..b+n) and the prefix sums. */
function pearsonFrom(sxy: number, ps: Float64Array, ps2: Float64Array, a: number, b: number, n: number): number {
  const sa = ps[a + n] - ps[a], sb = ps[b + n] - ps[b];
  const c = sxy - sa * sb / n;
  const vx = ps2[a + n] - ps2[a] - sa * sa / n, vy = ps2[b + n] - ps2[b] - sb * sb / n;
  return c / (Math.sqrt(vx) * Math.sqrt(vy));
}

/**
 * cc[L − lo] = pearsonAt(x, ps, ps2, a, a + L, L) for every L in [lo, hi], four lags per pass over
 * x: four independent sums (each still adds its products in rising order, so the values are the
 * same to the bit) instead of one dependent chain per lag, and x[a + i] loaded once for the four.
 */
function pearsonLags(x: Float64Array, ps: Float64Array, ps2: Float64Array, a: number, lo: number, hi: number, cc: Float64Array): void {
  let L = lo;
  for (; L + 3 <= hi; L += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const b = a + L;
    for (let i = 0; i < L; i++) {
      const u = x[a + i], j = b + i;
      s0 += u * x[j]; s1 += u * x[j + 1]; s2 += u * x[j + 2]; s3 += u * x[j + 3];
    }
    // the longer lags' last terms (lag L + d sums L + d products)
    let u = x[a + L]; s1 += u * x[b + L + 1]; s2 += u * x[b + L + 2]; s3 += u * x[b + L + 3];
    u = x[a + L + 1]; s2 += u * x[b + L + 3]; s3 += u * x[b + L + 4];
    u = x[a + L + 2]; s3 += u * x[b + L + 5];
    cc[L - lo] = pearsonFrom(s0, ps, ps2, a, b, L);
    cc[L + 1 - lo] = pearsonFrom(s1, ps, ps2, a, b + 1, L + 1);
    cc[L + 2 - lo] = pearsonFrom(s2, ps, ps2, a, b + 2, L + 2);
    cc[L + 3 - lo] = pearsonFrom(s3, ps, ps2, a, b + 3, L + 3);
  }
  for (; L <= hi; L++) cc[L - lo] = pearsonAt(x, ps, ps2, a, a + L, L);
}

/** Peak-to-peak amplitude of x[a+1 .. a+n−2] (the first and last sample of the period left out). */
function peakToPeak(x: Float64Array, a: number, n: number): number {
  let mx = x[a + 1], mn = x[a + 1];
  for (let i = a + 1; i < a + n - 1; i++) { const v = x[i]; if (v > mx) mx = v; if (v < mn) mn = v; }
  return mx - mn;
}

/** The walk's buffers and the values it carries from frame to frame. */
class Walk {
  /** The read block in a Float64Array (the same values; no float32 → float64 conversion per product). */
  buf = new Float64Array(4096); ps = new Float64Array(4097); ps2 = new Float64Array(4097);
  cc = new Float64Array(64);
  /** The previous accepted period (s), the last jitter and shimmer values. */
  lastT0 = 0; lastJ = 0; lastS = 0;
  /** This frame's jitter and shimmer (set by `voicedFrame`). */
  jitter = 0; shimmer = 0;
}

/**
 * Jitter and shimmer of every 60 ms frame t (starting at t·hop; F0 in Hz, 0 = unvoiced, as the
 * voicing floor left it). `len60` is the F0 frame's length in samples.
 * (The block read and the period walk are functions of their own, so that this loop has no hot
 * inner loop: compiled on stack with no type feedback yet for the voiced branch, it was
 * deoptimised again on every call.)
 */
export function pitchJitter(x: Float32Array, fs: number, f0: ArrayLike<number>, hop: number, len60: number): JitterResult {
  const nF = f0.length;
  const jitter = new Float64Array(nF), shimmer = new Float64Array(nF);
  const w = WALK; // its buffers reused from call to call (98 KB), its carried values reset
  w.lastT0 = 0; w.lastJ = 0; w.lastS = 0;
  let lastIdx = 0, lastMis = 0;
  for (let t = 0; t < nF; t++) {
    const F0 = Math.fround(f0[t]);
    const startV = t * hop;
    const toRead0 = hop + lastMis;
    let toRead = toRead0;
    let Tf = 0, T0f = 0, T0minF = 0, T0maxF = 0;
    if (F0 > 0) {
      Tf = (1 / F0) * fs;
      T0f = Math.round(Tf);
      T0minF = Math.floor(0.9 * Tf); T0maxF = Math.ceil(1.1 * Tf);
      toRead = Math.max(toRead, 2 * T0maxF + 2);
    }
    let maxRead = lastMis + len60;
    if (toRead > maxRead) toRead = maxRead;
    if (startV - lastMis !== lastIdx) {
      lastIdx = startV;
      if (toRead > len60) toRead = len60;
      if (maxRead > len60) maxRead = len60;
    }
    // the read block, zero beyond the end of the signal
    readBlock(w, x, lastIdx, toRead);
    let lastPeriod = 0;
    if (F0 > 0) {
      lastPeriod = voicedFrame(w, toRead, toRead0, T0minF, T0maxF, T0f, fs);
      lastMis = toRead0 - lastPeriod;
      jitter[t] = w.jitter; shimmer[t] = w.shimmer;
    } else {
      lastPeriod = toRead0; lastMis = 0;
      w.lastT0 = 0; w.lastJ = 0; w.lastS = 0;
    }
    lastIdx += lastPeriod;
  }
  return { jitter, shimmer };
}

const WALK = new Walk();

/** w.buf[0..n) = x[from ..], zero beyond the end of x (the buffers grown as needed). */
function readBlock(w: Walk, x: Float32Array, from: number, n: number): void {
  if (w.buf.length < n) { w.buf = new Float64Array(2 * n); w.ps = new Float64Array(2 * n + 1); w.ps2 = new Float64Array(2 * n + 1); }
  const buf = w.buf, N = x.length;
  for (let i = 0; i < n; i++) { const j = from + i; buf[i] = j < N ? x[j] : 0; }
}

/**
 * The period walk through the read block of a voiced frame (nT samples; periods T0minF..T0maxF,
 * T0f rounded): w.jitter and w.shimmer of the frame, and the position of the last period mark
 * inside the frame's own hop (where the next frame reads on from).
 */
function voicedFrame(w: Walk, nT: number, toRead0: number, T0minF: number, T0maxF: number, T0f: number, fs: number): number {
  const buf = w.buf, ps = w.ps, ps2 = w.ps2;
  let lastPeriod = 0;
  let nPer = 0, nLoc = 0, sumT = 0, sumJ = 0, sumA = 0, sumAd = 0;
  const nCc = T0maxF - T0minF + 1;
  if (w.cc.length < nCc) w.cc = new Float64Array(2 * nCc);
  const cc = w.cc;
  for (let i = 0; i < nT; i++) { const v = buf[i]; ps[i + 1] = ps[i] + v; ps2[i + 1] = ps2[i] + v * v; }
  let start = 0;
  while (start < nT - 2 * T0maxF - 1) {
    pearsonLags(buf, ps, ps2, start, T0minF, T0maxF, cc);
    let maxI = -1, max = 0;
    for (let i = 1; i < T0maxF - T0minF - 1; i++) {
      if (cc[i - 1] < cc[i] && cc[i] > cc[i + 1] && (maxI === -1 || cc[i] > max)) { maxI = i; max = cc[i]; }
    }
    if (maxI < 0) start += T0f;
    else {
      const pp = T0minF + maxI;
      const os = start;
      start += pp;
      const a0 = peakToPeak(buf, os, pp), a1 = peakToPeak(buf, start, pp);
      // parabola through the correlation peak: refined position and value
      quadFrom3pts(maxI - 1, cc[maxI - 1], maxI, cc[maxI], maxI + 1, cc[maxI + 1]);
      if (quad.y > 0.5) {
        const period = Math.fround(Math.abs(T0minF + quad.x) / fs);
        sumT += period; nPer++;
        if (w.lastT0 > 0) { sumJ += Math.abs(w.lastT0 - period); nLoc++; }
        w.lastT0 = period;
        sumA += (a0 + a1) / 2; sumAd += Math.abs(a0 - a1);
      }
    }
    if (start < toRead0 - 1) lastPeriod = start;
  }
  if (nPer > 0 && nLoc > 0) w.lastJ = Math.min(1, (sumJ / nLoc) / (sumT / nPer));
  if (nPer > 0) w.lastS = Math.min(1, sumA > 0 ? sumAd / sumA : 0);
  w.jitter = nPer > 0 && nLoc === 0 ? 0 : w.lastJ;
  w.shimmer = 20 * Math.log10(w.lastS + 1);
  return lastPeriod;
}
