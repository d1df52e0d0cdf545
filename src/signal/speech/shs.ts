/**
 * F0 as openSMILE's eGeMAPSv02 computes it: subharmonic summation on an octave-scaled spectrum
 * (cSpecScale → cPitchShs) and its Viterbi smoother (cPitchSmootherViterbi), written from the
 * behaviour its source and configuration describe (no code copied). Parameters are eGeMAPS':
 *
 *  - spectrum: magnitude of the 60 ms Gaussian frame (σ 0.4), zero-padded FFT;
 *  - peak enhancement (bins more than 2 away from a local maximum, between two maxima, set to 0),
 *    [¼ ½ ¼] smoothing, natural cubic spline onto an octave axis from 25 Hz to fs/2 with as many
 *    points as FFT bins, auditory weight 0.5 + atan(3(i + 1 − s)/ppo)/π per point;
 *  - SHS: 15 harmonics, compression 0.85, shift floor(ppo·log2 h), sum / 15; the 6 highest local
 *    maxima (greedy), refined by a parabola on the octave axis; voicing 1 − mean/score; candidates
 *    outside 55–1000 Hz dropped; the best-scoring first;
 *  - Viterbi: states = the 6 candidates + unvoiced; local cost (−ln p + 4·[p < 0.7])·2 + range
 *    weight for a candidate, 2·4 for "unvoiced" when any candidate has p ≥ 0.7; transitions
 *    10·|ln(f/f′)| + 10·|ln(f/f′) − last change| between voiced states (999 to an empty one),
 *    10 between voiced and unvoiced, 1 unvoiced → unvoiced; the last change is the value of the
 *    previous evaluation in the smoother's loop order (as openSMILE's is); paths decided when they
 *    merge or after 40 frames, the rest by the cheapest path at the end.
 */

import { quad, quadFrom3pts } from './spectrum.js';

const N_CAND = 6;
const N_STATES = N_CAND + 1; // + unvoiced
const UV = N_CAND;
const VOICE_CUTOFF = 0.7;
const MIN_F0 = 55, MAX_F0 = 1000;
const N_HARM = 15, COMPRESSION = 0.85;
const BUFLEN = 40;
const W_LOCAL = 2, W_TVV = 10, W_TVVD = 10, W_TVUV = 10, W_THR = 4, W_RANGE = 1;

/** Per-FFT-size set-up: the octave axis, the spline's fixed parts, the auditory weights. */
export class ShsSetup {
  nMag: number; xo: Float64Array; sigma: Float64Array; diff1: Float64Array; diff2: Float64Array;
  k: Int32Array; ca: Float64Array; cc: Float64Array; cd: Float64Array; audw: Float64Array;
  /** The spline evaluation's coefficients interleaved (ca, 1 − ca, cc, cd, audw per point). */
  ev: Float64Array;
  fmint: number; fstept: number; ppo: number; shifts: Int32Array; comp: Float64Array;
  y: Float64Array; y2: Float64Array; u: Float64Array; spec: Float64Array; ss: Float64Array;
  /** The spline's data-independent recursion: p[i], y2 coefficients, 1/diff1, 1/diff2. */
  pp: Float64Array; y2c: Float64Array; id1: Float64Array; id2: Float64Array;
  constructor(fftSize: number, fs: number) {
    const n = fftSize / 2 + 1; this.nMag = n;
    const df = fs / fftSize;
    const xo = new Float64Array(n);
    for (let i = 1; i < n; i++) xo[i] = Math.log2(i * df);
    xo[0] = 2 * xo[1] - xo[2];
    this.xo = xo;
    this.sigma = new Float64Array(n); this.diff1 = new Float64Array(n); this.diff2 = new Float64Array(n);
    for (let i = 1; i < n - 1; i++) {
      this.sigma[i] = (xo[i] - xo[i - 1]) / (xo[i + 1] - xo[i - 1]);
      this.diff1[i] = (xo[i + 1] - xo[i]) * (xo[i + 1] - xo[i - 1]);
      this.diff2[i] = (xo[i] - xo[i - 1]) * (xo[i + 1] - xo[i - 1]);
    }
    this.pp = new Float64Array(n); this.y2c = new Float64Array(n); this.id1 = new Float64Array(n); this.id2 = new Float64Array(n);
    for (let i = 1; i < n - 1; i++) {
      const p = 1 / (this.sigma[i] * this.y2c[i - 1] + 2);
      this.pp[i] = p; this.y2c[i] = (this.sigma[i] - 1) * p;
      this.id1[i] = 1 / this.diff1[i]; this.id2[i] = 1 / this.diff2[i];
    }
    const minF = 25, maxF = df * (n - 1);
    const fmin = Math.log2(minF), fmax = Math.log2(maxF);
    const step = (fmax - fmin) / (n - 1);
    this.fmint = fmin; this.fstept = step;
    this.k = new Int32Array(n); this.ca = new Float64Array(n); this.cc = new Float64Array(n); this.cd = new Float64Array(n);
    let ku = 1;
    for (let i = 0; i < n; i++) {
      const x = Math.min(fmin + i * step, xo[n - 1]);
      while (ku < n - 1 && xo[ku] < x) ku++;
      const kl = ku - 1; this.k[i] = kl;
      const range = xo[ku] - xo[kl];
      const a = (xo[ku] - x) / range, b = 1 - a, r2 = range * range / 6;
      this.ca[i] = a; this.cc[i] = (a * a * a - a) * r2; this.cd[i] = (b * b * b - b) * r2;
    }
    const nOct = Math.log2(maxF / minF);
    this.ppo = n / nOct;
    const s = this.ppo * Math.log2(65 / 50) - 1;
    this.audw = Float64Array.from({ length: n }, (_, i) => 0.5 + Math.atan(3 * (i + 1 - s) / this.ppo) / Math.PI);
    // per evaluation point, side by side: ca, 1 − ca, cc, cd, auditory weight
    this.ev = new Float64Array(5 * n);
    for (let i = 0; i < n; i++) {
      this.ev[5 * i] = this.ca[i]; this.ev[5 * i + 1] = 1 - this.ca[i]; this.ev[5 * i + 2] = this.cc[i];
      this.ev[5 * i + 3] = this.cd[i]; this.ev[5 * i + 4] = this.audw[i];
    }
    this.shifts = Int32Array.from({ length: N_HARM + 1 }, (_, h) => (h >= 2 ? Math.floor(this.ppo * Math.log2(h)) : 0));
    this.comp = new Float64Array(N_HARM + 1);
    for (let h = 2, c = COMPRESSION; h <= N_HARM; h++, c *= COMPRESSION) this.comp[h] = c;
    this.y = new Float64Array(n); this.y2 = new Float64Array(n); this.u = new Float64Array(n);
    this.spec = new Float64Array(n); this.ss = new Float64Array(n);
  }
}

/**
 * SHS candidates of one frame from its magnitude spectrum `mag` (nMag bins; overwritten):
 * writes f0 (Hz, 0 = empty) and voicing of the 6 candidates into out[2c], out[2c + 1].
 */
export function shsCandidates(S: ShsSetup, mag: Float64Array, out: Float64Array): void {
  const n = S.nMag, a = mag; // worked on in place
  // peak enhancement: between consecutive local maxima, keep ±2 bins around each
  let nMax = 0;
  // maxima are found on the unmodified spectrum: collect first
  const pos = S.u; // scratch (Int-valued)
  if (a[0] > a[1]) pos[nMax++] = 0;
  let aPrev0 = a[0], aCur0 = a[1];
  for (let i = 1; i < n - 1; i++) {
    const aNext = a[i + 1];
    // branch-free: i is written always and kept only when it is a maximum (the pattern is random)
    pos[nMax] = i; nMax += +(aCur0 > aPrev0) & +(aCur0 >= aNext);
    aPrev0 = aCur0; aCur0 = aNext;
  }
  if (a[n - 1] > a[n - 2]) pos[nMax++] = n - 1;
  if (nMax === 1) { for (let j = 3; j < n; j++) a[j] = 0; } // openSMILE's single-maximum branch
  else for (let m = 1; m < nMax; m++) for (let j = pos[m - 1] + 3; j <= pos[m] - 3; j++) a[j] = 0;
  // [¼ ½ ¼] smoothing (the last bin unchanged) and the natural cubic spline through (xo, a), to be
  // evaluated on the octave axis. The smoothing runs inside the spline's forward recursion, one bin
  // ahead of it (r*: the unsmoothed neighbours; the same expressions as a separate pass): that
  // recursion is one long dependency chain, which leaves the CPU room for the smoothing's work.
  const y2 = S.y2, u = S.u;
  // (the y2 recursion does not depend on the data: precomputed in ShsSetup; ut with reciprocals,
  // which can differ from openSMILE's divisions in the last bit only)
  const sig = S.sigma, pp = S.pp, y2c = S.y2c, id1 = S.id1, id2 = S.id2;
  let rPrev = 0, rCur = a[0], rNext = a[1];
  a[0] = (rPrev + 2 * rCur + rNext) / 4; rPrev = rCur; rCur = rNext; rNext = a[2];
  a[1] = (rPrev + 2 * rCur + rNext) / 4; rPrev = rCur; rCur = rNext;
  u[0] = 0;
  let uPrev = 0, aPrev = a[0], aCur = a[1];
  for (let i = 1; i < n - 1; i++) {
    let aNext: number;
    if (i + 1 < n - 1) { rNext = a[i + 2]; aNext = (rPrev + 2 * rCur + rNext) / 4; a[i + 1] = aNext; rPrev = rCur; rCur = rNext; }
    else aNext = a[i + 1];
    const ut = (aNext - aCur) * id1[i] - (aCur - aPrev) * id2[i];
    uPrev = pp[i] * (6 * ut - sig[i] * uPrev);
    u[i] = uPrev;
    aPrev = aCur; aCur = aNext;
  }
  y2[n - 1] = 0;
  let yNext = 0;
  for (let j = n - 2; j >= 0; j--) { yNext = y2c[j] * yNext + u[j]; y2[j] = yNext; } // y2c[0] = 0
  const sp = S.spec, kk = S.k, ev = S.ev;
  for (let i = 0, o = 0; i < n; i++, o += 5) {
    const k = kk[i];
    const v = ev[o] * a[k] + ev[o + 1] * a[k + 1] + ev[o + 2] * y2[k] + ev[o + 3] * y2[k + 1];
    sp[i] = v > 0 ? v * ev[o + 4] : 0;
  }
  // subharmonic summation, gathered per output point: ss[j] = (sp[j] + Σ_h c_h·sp[j + shift_h]) / 15,
  // the terms added in h order (the same sums, to the bit, as adding each shifted copy in turn), the
  // accumulator in a register instead of 14 read-modify-write passes over ss; clamped at 0, summed
  // for the mean. Points with all 14 harmonics inside the axis take the unrolled loop.
  const ss = S.ss, sh = S.shifts, cm = S.comp;
  const s2 = sh[2], s3 = sh[3], s4 = sh[4], s5 = sh[5], s6 = sh[6], s7 = sh[7], s8 = sh[8];
  const s9 = sh[9], s10 = sh[10], s11 = sh[11], s12 = sh[12], s13 = sh[13], s14 = sh[14], s15 = sh[15];
  const c2 = cm[2], c3 = cm[3], c4 = cm[4], c5 = cm[5], c6 = cm[6], c7 = cm[7], c8 = cm[8];
  const c9 = cm[9], c10 = cm[10], c11 = cm[11], c12 = cm[12], c13 = cm[13], c14 = cm[14], c15 = cm[15];
  const full = Math.max(0, n - s15);
  let mean = 0;
  for (let j = 0; j < full; j++) {
    let acc = sp[j];
    acc += sp[j + s2] * c2; acc += sp[j + s3] * c3; acc += sp[j + s4] * c4; acc += sp[j + s5] * c5;
    acc += sp[j + s6] * c6; acc += sp[j + s7] * c7; acc += sp[j + s8] * c8; acc += sp[j + s9] * c9;
    acc += sp[j + s10] * c10; acc += sp[j + s11] * c11; acc += sp[j + s12] * c12; acc += sp[j + s13] * c13;
    acc += sp[j + s14] * c14; acc += sp[j + s15] * c15;
    acc /= N_HARM; if (acc < 0) acc = 0;
    ss[j] = acc; mean += acc;
  }
  // the top of the axis: harmonics 2..hTop inside it for j in [n − shift_{hTop+1}, n − shift_hTop)
  for (let hTop = N_HARM - 1; hTop >= 1; hTop--) {
    const j0 = Math.max(0, n - sh[hTop + 1]), j1 = hTop >= 2 ? n - sh[hTop] : n;
    for (let j = j0; j < j1; j++) {
      let acc = sp[j];
      for (let h = 2; h <= hTop; h++) acc += sp[j + sh[h]] * cm[h];
      acc /= N_HARM; if (acc < 0) acc = 0;
      ss[j] = acc; mean += acc;
    }
  }
  mean /= n;
  // the 6 highest local maxima, greedy insertion (slots hold descending positive scores, zeros
  // after: a maximum not above the 6th slot's score changes nothing and is skipped at once)
  const cIdx = C_IDX, cScore = C_SCORE, f = C_F, v = C_V, s = C_S;
  cIdx.fill(0); cScore.fill(0);
  let nC = 0;
  let sPrev = ss[0], si = ss[1], last = 0; // last: the 6th slot's score
  for (let i = 1; i < n - 1; i++) {
    const sNext = ss[i + 1];
    // one rarely taken branch: a strict local maximum above the 6th slot (scores are ≥ 0, a maximum
    // is > 0, so "above the 6th" also covers an empty 6th slot)
    if ((+(sPrev < si) & +(si > sNext) & +(last < si)) !== 0) {
      for (let j = 0; j < N_CAND; j++) {
        if (cScore[j] === 0 || cScore[j] < si) {
          for (let jj = N_CAND - 1; jj > j; jj--) { cScore[jj] = cScore[jj - 1]; cIdx[jj] = cIdx[jj - 1]; }
          cIdx[j] = i; cScore[j] = si;
          if (nC < N_CAND) nC++;
          break;
        }
      }
      last = cScore[N_CAND - 1];
    }
    sPrev = si; si = sNext;
  }
  f.fill(0); v.fill(0); s.fill(0);
  for (let c = 0; c < nC; c++) {
    const j = cIdx[c];
    const x1 = j * S.fstept + S.fmint, x0 = x1 - S.fstept, x2 = x1 + S.fstept;
    quadFrom3pts(x0, ss[j - 1], x1, ss[j], x2, ss[j + 1]);
    const score = quad.y;
    f[c] = Math.pow(2, quad.x); s[c] = score;
    v[c] = score > 0 && score > mean ? 1 - mean / score : 0;
  }
  // drop out-of-range candidates (order kept), then the best score first
  let w = 0;
  for (let c = 0; c < N_CAND; c++) {
    if (c < nC && f[c] >= MIN_F0 && f[c] <= MAX_F0) { f[w] = f[c]; v[w] = v[c]; s[w] = s[c]; w++; }
  }
  for (let c = w; c < N_CAND; c++) { f[c] = 0; v[c] = 0; s[c] = 0; }
  let best = 0;
  for (let c = 1; c < N_CAND; c++) if (s[c] > s[best]) best = c;
  if (best > 0) {
    let u = f[0]; f[0] = f[best]; f[best] = u;
    u = v[0]; v[0] = v[best]; v[best] = u;
  }
  for (let c = 0; c < N_CAND; c++) { out[2 * c] = f[c]; out[2 * c + 1] = v[c]; }
}
// per-frame scratch of shsCandidates (no allocation per frame)
const C_IDX = new Int32Array(N_CAND), C_SCORE = new Float64Array(N_CAND);
const C_F = new Float64Array(N_CAND), C_V = new Float64Array(N_CAND), C_S = new Float64Array(N_CAND);

function rangeWeight(f: number): number {
  if (f > 0 && f < 100) return 1 - f / 100;
  if (f >= 100 && f < 350) return 0;
  if (f >= 350 && f < 600) return (f - 350) / 250;
  if (f >= 600) return 1.2;
  return 2;
}

/**
 * The smoother over frames of candidates `cand` (T × 12: f0, voicing for 6 candidates):
 * F0 per frame in Hz (0 = unvoiced), and `decided`, the number of frames its buffer had let out
 * before the end of the input (the rest leave at the flush; openSMILE's voice-quality and voiced /
 * unvoiced spectral functionals see only the first `decided` frames, see egemaps.ts).
 */
export function viterbiSmooth(cand: Float64Array, T: number): { f0: Float64Array; decided: number } {
  const f0 = new Float64Array(T);
  if (T === 0) return { f0, decided: 0 };
  const F = 2 * N_CAND;
  let lastChange = 1;
  const local = (i: number, o: number): number => {
    if (i < UV) {
      let pv = cand[o + 2 * i + 1]; if (pv < 0.01) pv = 0.01; if (pv > 1) pv = 1;
      const thr = pv < VOICE_CUTOFF ? W_THR : 0;
      return (-Math.log(pv) + thr) * W_LOCAL + rangeWeight(cand[o + 2 * i]) * W_RANGE;
    }
    for (let j = 0; j < N_CAND; j++) if (cand[o + 2 * j + 1] >= VOICE_CUTOFF) return W_LOCAL * W_THR;
    return 0;
  };
  // i: state now, j: state before
  const trans = (i: number, j: number, oPrev: number, oCur: number): number => {
    if (i < UV && j < UV) {
      const fp = cand[oPrev + 2 * j], fc = cand[oCur + 2 * i];
      if (fp === 0 || fc === 0) return 999;
      const r = Math.log(fc / fp);
      const x = W_TVV * Math.abs(r) + W_TVVD * Math.abs(r - lastChange);
      lastChange = r;
      return x;
    }
    if ((i === UV) !== (j === UV)) { lastChange = 0; return W_TVUV; }
    return 1; // unvoiced → unvoiced (openSMILE's u→u test never matches; it falls through to 1)
  };
  let paths = new Int32Array(N_STATES * BUFLEN), pathsNew = new Int32Array(N_STATES * BUFLEN);
  let cost = new Float64Array(N_STATES), costNew = new Float64Array(N_STATES);
  const best = new Int32Array(T);
  let conv = -1; // last decided frame
  for (let t = 0; t < T; t++) {
    const o = t * F;
    if (t === 0) {
      for (let i = 0; i < N_STATES; i++) { cost[i] = local(i, o); paths[i * BUFLEN] = i; }
    } else {
      const op = o - F;
      for (let i = 0; i < N_STATES; i++) {
        let minS = 0, minC = trans(i, 0, op, o) + cost[0];
        for (let j = 1; j < N_STATES; j++) {
          const c = trans(i, j, op, o) + cost[j];
          if (c < minC) { minC = c; minS = j; }
        }
        costNew[i] = minC + local(i, o);
        pathsNew.set(paths.subarray(minS * BUFLEN, (minS + 1) * BUFLEN), i * BUFLEN);
        pathsNew[i * BUFLEN + (t % BUFLEN)] = i;
      }
      [cost, costNew] = [costNew, cost];
      [paths, pathsNew] = [pathsNew, paths];
    }
    const pathIdx = t + 1;
    if (pathIdx - conv > BUFLEN) {
      let m = 0; for (let i = 1; i < N_STATES; i++) if (cost[i] < cost[m]) m = i;
      conv++; best[conv] = paths[m * BUFLEN + (conv % BUFLEN)];
    } else {
      for (let n = conv + 1; n < pathIdx; n++) {
        const x = paths[n % BUFLEN];
        let same = true;
        for (let i = 1; i < N_STATES; i++) if (paths[i * BUFLEN + (n % BUFLEN)] !== x) { same = false; break; }
        if (!same) break;
        conv++; best[conv] = x;
      }
    }
  }
  const decided = conv + 1;
  let m = 0; for (let i = 1; i < N_STATES; i++) if (cost[i] < cost[m]) m = i;
  for (let n = conv + 1; n < T; n++) best[n] = paths[m * BUFLEN + (n % BUFLEN)];
  for (let t = 0; t < T; t++) { const s = best[t]; f0[t] = s < UV ? cand[t * F + 2 * s] : 0; }
  return { f0, decided };
}
