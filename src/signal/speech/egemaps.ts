/**
 * eGeMAPS v02 (Eyben et al. 2016, "The Geneva Minimalistic Acoustic Parameter Set"): 25 low-level
 * descriptors every 10 ms and the 88 functionals, with openSMILE 3.0's feature names.
 *
 * Frames (centred on t = (i + ½)·10 ms):
 *  - 60 ms, Gaussian window σ = 0.4: F0 (normalised ACF + Viterbi, 55–1000 Hz), HNR, harmonics
 *    H1, H2 and the formant amplitudes;
 *  - 20 ms, Hamming window: loudness, alpha ratio, Hammarberg index, spectral slopes, flux, MFCC
 *    1–4, formants (LPC order 11 at 11 kHz);
 *  - the waveform itself: jitter and shimmer (period tracking, see jitter.ts).
 * LLDs are smoothed over 3 frames (sma3; sma3nz over voiced frames for the F0-related ones), then
 * summarised as openSMILE's eGeMAPSv02.conf does (see `EGEMAPS_NAMES` for the 88).
 */
import { decimate2 } from './resample.js';
import { RealFft, gauss, hamming, nextPow2, windowedFrame } from './spectrum.js';
import { pitchCandidates, viterbiPitch, PITCH_DEFAULTS, type PitchCandidate, type PitchOptions } from './pitch.js';
import { trackPeriods, jitterShimmer } from './jitter.js';
import { bandLimitedAcf, formantsFromLpc, levinson } from './formants.js';
import { amean, meanStd, nonZero, peaks, percentile, runLengths, sma3, sma3nz, stddevNorm } from './functionals.js';

/** The 25 LLD names (openSMILE's lld output of eGeMAPSv02, smoothed). */
export const EGEMAPS_LLD_NAMES = [
  'Loudness_sma3', 'alphaRatio_sma3', 'hammarbergIndex_sma3', 'slope0-500_sma3', 'slope500-1500_sma3',
  'spectralFlux_sma3', 'mfcc1_sma3', 'mfcc2_sma3', 'mfcc3_sma3', 'mfcc4_sma3',
  'F0semitoneFrom27.5Hz_sma3nz', 'jitterLocal_sma3nz', 'shimmerLocaldB_sma3nz', 'HNRdBACF_sma3nz',
  'logRelF0-H1-H2_sma3nz', 'logRelF0-H1-A3_sma3nz',
  'F1frequency_sma3nz', 'F1bandwidth_sma3nz', 'F1amplitudeLogRelF0_sma3nz',
  'F2frequency_sma3nz', 'F2bandwidth_sma3nz', 'F2amplitudeLogRelF0_sma3nz',
  'F3frequency_sma3nz', 'F3bandwidth_sma3nz', 'F3amplitudeLogRelF0_sma3nz',
] as const;

const F0 = 'F0semitoneFrom27.5Hz_sma3nz';
const TEN = ['amean', 'stddevNorm', 'percentile20.0', 'percentile50.0', 'percentile80.0', 'pctlrange0-2',
  'meanRisingSlope', 'stddevRisingSlope', 'meanFallingSlope', 'stddevFallingSlope'];
const MS = ['amean', 'stddevNorm'];
const VOICED_LLD = ['jitterLocal', 'shimmerLocaldB', 'HNRdBACF', 'logRelF0-H1-H2', 'logRelF0-H1-A3',
  'F1frequency', 'F1bandwidth', 'F1amplitudeLogRelF0', 'F2frequency', 'F2bandwidth', 'F2amplitudeLogRelF0',
  'F3frequency', 'F3bandwidth', 'F3amplitudeLogRelF0'];
const SPECTRAL = ['alphaRatio', 'hammarbergIndex', 'slope0-500', 'slope500-1500', 'spectralFlux'];

/** The 88 functional names in openSMILE's output order. */
export const EGEMAPS_NAMES: readonly string[] = [
  ...TEN.map((f) => `${F0}_${f}`),
  ...TEN.map((f) => `loudness_sma3_${f}`),
  ...['spectralFlux', 'mfcc1', 'mfcc2', 'mfcc3', 'mfcc4'].flatMap((l) => MS.map((f) => `${l}_sma3_${f}`)),
  ...VOICED_LLD.flatMap((l) => MS.map((f) => `${l}_sma3nz_${f}`)),
  ...['alphaRatioV', 'hammarbergIndexV', 'slopeV0-500', 'slopeV500-1500', 'spectralFluxV', 'mfcc1V', 'mfcc2V', 'mfcc3V', 'mfcc4V']
    .flatMap((l) => MS.map((f) => `${l}_sma3nz_${f}`)),
  ...['alphaRatioUV', 'hammarbergIndexUV', 'slopeUV0-500', 'slopeUV500-1500', 'spectralFluxUV'].map((l) => `${l}_sma3nz_amean`),
  'loudnessPeaksPerSec', 'VoicedSegmentsPerSec', 'MeanVoicedSegmentLengthSec', 'StddevVoicedSegmentLengthSec',
  'MeanUnvoicedSegmentLength', 'StddevUnvoicedSegmentLength', 'equivalentSoundLevel_dBp',
];

export interface EgemapsOptions {
  pitch?: Partial<PitchOptions>;
  /** Frames whose Gaussian-windowed RMS is below this are unvoiced (openSMILE: 0.001). */
  voicingRmsFloor?: number;
}

export interface EgemapsResult {
  functionals: Record<string, number>;
  lld: { names: readonly string[]; frames: Float32Array[]; hopSeconds: number };
}

const HOP_S = 0.010;
const LPC_FS = 11000;
const LPC_ORDER = 11;
const PREEMPHASIS = 0.97;
const MAX_FORMANT_BW = 1000;
const N_MEL = 26;

interface MelBank { lo: Int32Array; weights: Float64Array[]; centersHz: Float64Array }

/** Triangular filters equally spaced on the mel scale 1127 ln(1 + f/700) between loHz and hiHz. */
function melBank(nBins: number, df: number, loHz: number, hiHz: number, n: number): MelBank {
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const inv = (m: number) => 700 * (Math.exp(m / 1127) - 1);
  const mLo = mel(loHz), mHi = mel(hiHz);
  const edges = Array.from({ length: n + 2 }, (_, i) => inv(mLo + (mHi - mLo) * i / (n + 1)));
  const lo = new Int32Array(n); const weights: Float64Array[] = []; const centersHz = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    const [l, c, h] = [edges[b], edges[b + 1], edges[b + 2]];
    centersHz[b] = c;
    const k0 = Math.max(0, Math.ceil(l / df)), k1 = Math.min(nBins - 1, Math.floor(h / df));
    const w = new Float64Array(Math.max(0, k1 - k0 + 1));
    for (let k = k0; k <= k1; k++) {
      const f = k * df;
      w[k - k0] = f <= c ? (f - l) / (c - l) : (h - f) / (h - c);
      if (w[k - k0] < 0) w[k - k0] = 0;
    }
    lo[b] = k0; weights.push(w);
  }
  return { lo, weights, centersHz };
}

/** Equal-loudness curve of PLP (Hermansky 1990) at angular frequency ω. */
function equalLoudness(fHz: number): number {
  const w2 = (2 * Math.PI * fHz) ** 2;
  return ((w2 + 56.8e6) * w2 * w2) / ((w2 + 6.3e6) ** 2 * (w2 + 0.38e9));
}

/** Per-sample-rate set-up, cached: windows, FFTs, filter banks, tables. */
class Setup {
  hop: number; len20: number; len60: number; n20: number; n60: number;
  win20: Float64Array; win60: Float64Array; fft20: RealFft; fft60: RealFft;
  /** Pitch ACF runs on the signal decimated by `dec` (to ≈ 8 kHz: F0 ≤ 1 kHz needs no more). */
  dec: number; fsP: number; hopP: number; len60P: number; win60P: Float64Array; fft60P: RealFft; maxLagP: number;
  winAcf60: Float64Array; mfccBank: MelBank; loudBank: MelBank; loudWeight: Float64Array;
  dct: Float64Array; lpcCos: Float64Array; lpcKMax: number;
  constructor(public fs: number) {
    this.hop = Math.round(HOP_S * fs);
    this.len20 = Math.round(0.020 * fs); this.len60 = Math.round(0.060 * fs);
    this.n20 = nextPow2(this.len20);
    this.n60 = nextPow2(this.len60);
    this.win20 = hamming(this.len20); this.win60 = gauss(this.len60, 0.4);
    this.fft20 = new RealFft(this.n20); this.fft60 = new RealFft(this.n60);
    this.dec = fs >= 16000 ? 2 : 1;
    this.fsP = fs / this.dec;
    this.hopP = HOP_S * this.fsP;
    this.len60P = Math.round(0.060 * this.fsP);
    this.win60P = gauss(this.len60P, 0.4);
    this.maxLagP = Math.ceil(this.fsP / 55) + 2;
    this.fft60P = new RealFft(nextPow2(this.len60P + this.maxLagP));
    // ACF of the window, normalised, for Boersma's correction
    const nP = this.fft60P.size / 2 + 1;
    const p = new Float64Array(nP); const r = new Float64Array(nP);
    this.fft60P.power(this.win60P, p); this.fft60P.acfFromPower(p, r);
    this.winAcf60 = r.map((v) => v / r[0]);
    const df20 = fs / this.n20; const bins20 = this.n20 / 2 + 1;
    const hi = Math.min(8000, fs / 2);
    this.mfccBank = melBank(bins20, df20, 20, hi, N_MEL);
    this.loudBank = melBank(bins20, df20, 20, hi, N_MEL);
    this.loudWeight = this.loudBank.centersHz.map(equalLoudness);
    this.dct = new Float64Array(4 * N_MEL);
    for (let k = 1; k <= 4; k++) {
      const lifter = 1 + 11 * Math.sin(Math.PI * k / 22);
      for (let j = 0; j < N_MEL; j++) this.dct[(k - 1) * N_MEL + j] = Math.sqrt(2 / N_MEL) * Math.cos(Math.PI * k * (j + 0.5) / N_MEL) * lifter;
    }
    this.lpcKMax = Math.min(bins20 - 1, Math.floor(LPC_FS / 2 / df20));
    this.lpcCos = new Float64Array((LPC_ORDER + 1) * (this.lpcKMax + 1));
    // cos table with the pre-emphasis |1 − 0.97 e^{−jω}|² folded in (as Praat does before LPC:
    // it flattens the glottal source tilt so no pole is spent on it)
    for (let lag = 0; lag <= LPC_ORDER; lag++) for (let k = 0; k <= this.lpcKMax; k++) {
      const w = 2 * Math.PI * k * df20 / LPC_FS;
      const pre = 1 + PREEMPHASIS * PREEMPHASIS - 2 * PREEMPHASIS * Math.cos(w);
      this.lpcCos[lag * (this.lpcKMax + 1) + k] = pre * Math.cos(w * lag);
    }
  }
}
const setups = new Map<number, Setup>();
function setupFor(fs: number): Setup {
  let s = setups.get(fs);
  if (!s) { s = new Setup(fs); setups.set(fs, s); }
  return s;
}

const SPEC_FLOOR = 1e-14; // power floor (openSMILE: specFloor² = (1e-7)²)
const dB = (p: number) => 10 * Math.log10(p > SPEC_FLOOR ? p : SPEC_FLOOR);

/**
 * Regression slope of the log power spectrum (dB) against frequency (Hz) over [loHz, hiHz],
 * with openSMILE's fractional end-bin weights and its N = idxR − idxL.
 */
function logSpectralSlope(P: Float64Array, df: number, loHz: number, hiHz: number): number {
  const idxL = loHz / df, idxR = hiHz / df;
  let wL = Math.ceil(idxL) - idxL; if (wL === 0) wL = 1;
  let wR = idxR - Math.floor(idxR); if (wR === 0) wR = 1;
  const iL = Math.floor(idxL), iR = Math.min(P.length - 1, Math.floor(idxR));
  let Sf = iL * wL * df, S2f = Sf * Sf, sA = Sf * dB(P[iL]), sB = wL * dB(P[iL]);
  for (let i = iL + 1; i < iR; i++) { const f = i * df, y = dB(P[i]); S2f += f * f; Sf += f; sA += f * y; sB += y; }
  const fR = iR * wR * df; const yR = dB(P[iR]);
  S2f += fR * fR; Sf += fR; sA += fR * yR; sB += wR * yR;
  const N = idxR - idxL;
  const den = N * S2f - Sf * Sf;
  return den !== 0 ? (N * sA - Sf * sB) / den : 0;
}

/** Compute the eGeMAPS v02 LLDs and functionals of mono `samples` at `sampleRate`. */
export function extractEgemaps(samples: Float32Array, sampleRate: number, opts: EgemapsOptions = {}): EgemapsResult {
  const fs = sampleRate;
  const S = setupFor(fs);
  const po: PitchOptions = { ...PITCH_DEFAULTS, ...opts.pitch };
  const rmsFloor = opts.voicingRmsFloor ?? 0.001;
  const x = samples;
  const T = Math.max(1, Math.floor(x.length / S.hop));
  const bins20 = S.n20 / 2 + 1;
  const df20 = fs / S.n20;

  // LLD tracks
  const loud = new Float64Array(T), alpha = new Float64Array(T), hamm = new Float64Array(T);
  const slopeA = new Float64Array(T), slopeB = new Float64Array(T), flux = new Float64Array(T);
  const mfcc = [new Float64Array(T), new Float64Array(T), new Float64Array(T), new Float64Array(T)];
  const fF = [new Float64Array(T), new Float64Array(T), new Float64Array(T)];
  const fB = [new Float64Array(T), new Float64Array(T), new Float64Array(T)];
  const energy = new Float64Array(T); const rms60 = new Float64Array(T); const localPeak = new Float64Array(T);
  const cands: PitchCandidate[][] = new Array(T);

  const fr20 = new Float64Array(S.len20), fr60P = new Float64Array(S.len60P);
  const binsP = S.fft60P.size / 2 + 1; const dfP = S.fsP / S.fft60P.size;
  const P20 = new Float64Array(bins20), P60P = new Float64Array(binsP), acfP = new Float64Array(binsP);
  const rNorm = new Float64Array(binsP);
  // power spectra of the pitch frames, kept up to 5.5 kHz for the harmonics
  const harmBins = Math.min(binsP, Math.ceil(5500 / dfP) + 2);
  const mag60 = new Float32Array(T * harmBins);
  const xP = S.dec > 1 ? decimate2(x) : x;
  let prevMag = new Float64Array(bins20), curMag = new Float64Array(bins20);
  const mel = new Float64Array(N_MEL);
  const lpcR = new Float64Array(LPC_ORDER + 1);
  const lpcScratch = { a: new Float64Array(LPC_ORDER + 1), tmp: new Float64Array(LPC_ORDER + 1) };
  const rootState = { zr: new Float64Array(0), zi: new Float64Array(0) };
  const fluxBins = Math.min(bins20 - 1, Math.floor(5000 / df20));
  let globalPeak = 0;
  const nBlocks = Math.ceil(x.length / S.hop) + 1;
  const blockPeak = new Float64Array(nBlocks);
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]); const b = (i / S.hop) | 0;
    if (a > blockPeak[b]) blockPeak[b] = a;
    if (a > globalPeak) globalPeak = a;
  }

  for (let t = 0; t < T; t++) {
    const c = t * S.hop + (S.hop >> 1);
    // ---------- 20 ms Hamming frame ----------
    windowedFrame(x, c, S.len20, S.win20, fr20);
    {
      const a = c - (S.len20 >> 1); let e = 0;
      for (let i = 0; i < S.len20; i++) { const j = a + i; if (j >= 0 && j < x.length) e += x[j] * x[j]; }
      energy[t] = e / S.len20; // energy2: mean square of the frame
    }
    if (energy[t] === 0) {
      // digital silence: every 20 ms descriptor is 0 except the flux against the previous frame
      if (t > 0) { let d = 0; for (let k = 0; k <= fluxBins; k++) d += prevMag[k] * prevMag[k]; flux[t] = Math.sqrt(d / (fluxBins + 1)); }
      prevMag.fill(0);
    } else {
    S.fft20.power(fr20, P20);
    // alpha ratio: 10 log10(E[1–5 kHz] / E[0–1 kHz]); Hammarberg: 10 log10(max P[0–2 kHz] / max P[2–5 kHz])
    let s01 = 0, s15 = 0, m02 = 0, m25 = 0;
    for (let k = 0; k < bins20; k++) {
      const f = k * df20; if (f > 5000) break;
      const p = P20[k];
      if (f < 1000) s01 += p; else s15 += p;
      if (f < 2000) { if (p > m02) m02 = p; } else if (p > m25) m25 = p;
    }
    alpha[t] = s01 > 0 ? 10 * Math.log10(Math.max(s15, SPEC_FLOOR) / s01) : 0;
    hamm[t] = m25 > 0 ? 10 * Math.log10(Math.max(m02, SPEC_FLOOR) / m25) : 0;
    slopeA[t] = logSpectralSlope(P20, df20, 0, 500);
    slopeB[t] = logSpectralSlope(P20, df20, 500, 1500);
    // spectral flux: RMS difference of consecutive magnitude spectra, 0–5 kHz
    for (let k = 0; k < bins20; k++) curMag[k] = Math.sqrt(P20[k]);
    if (t > 0) {
      let d = 0; for (let k = 0; k <= fluxBins; k++) { const u = curMag[k] - prevMag[k]; d += u * u; }
      flux[t] = Math.sqrt(d / (fluxBins + 1));
    }
    [prevMag, curMag] = [curMag, prevMag];
    // mel bands (power) → MFCC 1–4 (HTK: log, DCT-II, lifter 22) and loudness (PLP auditory spectrum)
    let L = 0;
    for (let b = 0; b < N_MEL; b++) {
      const w = S.mfccBank.weights[b]; const k0 = S.mfccBank.lo[b]; let s = 0;
      for (let k = 0; k < w.length; k++) s += w[k] * P20[k0 + k];
      mel[b] = s;
      L += Math.pow(S.loudWeight[b] * s, 0.33);
    }
    loud[t] = L;
    for (let b = 0; b < N_MEL; b++) mel[b] = Math.log(Math.max(mel[b], 1e-12));
    for (let k = 0; k < 4; k++) { let s = 0; for (let b = 0; b < N_MEL; b++) s += S.dct[k * N_MEL + b] * mel[b]; mfcc[k][t] = s; }
    // formants: LPC of the spectrum band-limited to 5.5 kHz (= resampled to 11 kHz)
    bandLimitedAcf(P20, df20, LPC_FS, LPC_ORDER, lpcR, S.lpcCos);
    const a = levinson(lpcR, LPC_ORDER, lpcScratch);
    if (a) {
      const fm = formantsFromLpc(a, LPC_FS, 50, 5450, rootState).filter((q) => q.bandwidth < MAX_FORMANT_BW);
      for (let k = 0; k < 3; k++) { fF[k][t] = fm[k]?.frequency ?? 0; fB[k][t] = fm[k]?.bandwidth ?? 0; }
    }
    }
    // ---------- 60 ms Gaussian frame (pitch: on the decimated signal) ----------
    const cP = Math.round(c / S.dec);
    windowedFrame(xP, cP, S.len60P, S.win60P, fr60P, true);
    let e60 = 0, pk = 0;
    for (let i = 0; i < S.len60P; i++) e60 += fr60P[i] * fr60P[i];
    {
      // the frame's absolute peak from the per-hop block maxima it covers
      const b0 = Math.max(0, Math.floor((c - (S.len60 >> 1)) / S.hop)), b1 = Math.min(nBlocks - 1, Math.floor((c + (S.len60 >> 1)) / S.hop));
      for (let b = b0; b <= b1; b++) if (blockPeak[b] > pk) pk = blockPeak[b];
    }
    rms60[t] = Math.sqrt(e60 / S.len60P); localPeak[t] = pk;
    if (rms60[t] < rmsFloor) { cands[t] = []; continue; } // below the voicing floor: unvoiced whatever the ACF says
    S.fft60P.power(fr60P, P60P);
    mag60.set(P60P.subarray(0, harmBins), t * harmBins);
    S.fft60P.acfFromPower(P60P, acfP);
    if (acfP[0] > 0) {
      const lim = Math.min(acfP.length, S.maxLagP + 2);
      for (let k = 0; k < lim; k++) rNorm[k] = acfP[k] / acfP[0] / Math.max(S.winAcf60[k], 1e-3);
      cands[t] = pitchCandidates(rNorm.subarray(0, lim), S.fsP, po, []);
    } else cands[t] = [];
  }

  // ---------- F0 path, voicing ----------
  const { f0, strength } = viterbiPitch(cands, localPeak, globalPeak, po);
  for (let t = 0; t < T; t++) if (rms60[t] < rmsFloor) f0[t] = 0;
  const f0st = new Float64Array(T);
  for (let t = 0; t < T; t++) f0st[t] = f0[t] > 0 ? 12 * Math.log2(f0[t] / 27.5) : 0;

  // ---------- voice quality ----------
  const chains = trackPeriods(x, fs, f0, S.hop);
  const { jitter, shimmer } = jitterShimmer(chains, T, S.hop, S.len60, f0);
  const hnr = new Float64Array(T), h1h2 = new Float64Array(T), h1a3 = new Float64Array(T);
  const fA = [new Float64Array(T), new Float64Array(T), new Float64Array(T)];
  for (let t = 0; t < T; t++) {
    if (f0[t] <= 0) continue;
    const r = Math.min(0.9999, Math.max(1e-4, strength[t]));
    hnr[t] = 10 * Math.log10(r / (1 - r));
    // harmonic magnitudes from the 60 ms Gaussian-windowed power spectrum (of the pitch frame)
    const m = mag60.subarray(t * harmBins, (t + 1) * harmBins); const F = f0[t];
    const harm = (h: number) => { // peak magnitude within ±F0/4 of h·F0
      const lo = Math.max(0, Math.floor((h - 0.25) * F / dfP)), hi = Math.min(harmBins - 1, Math.ceil((h + 0.25) * F / dfP));
      let v = 0; for (let k = lo; k <= hi; k++) if (m[k] > v) v = m[k];
      return Math.sqrt(v);
    };
    const H1 = harm(1), H2 = harm(2);
    const amp = (k: number) => { // highest harmonic within the formant's bandwidth (nearest one if none)
      const Fk = fF[k][t], Bk = fB[k][t];
      if (!(Fk > 0)) return 0;
      let hLo = Math.ceil((Fk - Bk / 2) / F), hHi = Math.floor((Fk + Bk / 2) / F);
      if (hLo < 1) hLo = 1;
      if (hHi < hLo) { hLo = hHi = Math.max(1, Math.round(Fk / F)); }
      while (hLo > 1 && (hLo + 0.25) * F >= S.fsP / 2) { hLo--; hHi = hLo; }
      let v = 0; for (let h = hLo; h <= hHi && (h + 0.25) * F < S.fsP / 2; h++) v = Math.max(v, harm(h));
      return v;
    };
    const rel = (a: number, b: number) => (a > 0 && b > 0 ? 20 * Math.log10(a / b) : 0);
    h1h2[t] = rel(H1, H2);
    const A = [amp(0), amp(1), amp(2)];
    h1a3[t] = rel(H1, A[2]);
    for (let k = 0; k < 3; k++) fA[k][t] = rel(A[k], H1);
  }

  // ---------- smoothing ----------
  const voicedOnly = (v: Float64Array) => v.map((u, t) => (f0[t] > 0 ? u : 0));
  const unvoicedOnly = (v: Float64Array) => v.map((u, t) => (f0[t] > 0 ? 0 : u));
  const lldRaw: Float64Array[] = [
    sma3(loud), sma3(alpha), sma3(hamm), sma3(slopeA), sma3(slopeB), sma3(flux),
    sma3(mfcc[0]), sma3(mfcc[1]), sma3(mfcc[2]), sma3(mfcc[3]),
    sma3nz(f0st), sma3nz(jitter), sma3nz(shimmer), sma3nz(hnr), sma3nz(h1h2), sma3nz(h1a3),
    sma3nz(fF[0]), sma3nz(fB[0]), sma3nz(fA[0]), sma3nz(fF[1]), sma3nz(fB[1]), sma3nz(fA[1]),
    sma3nz(fF[2]), sma3nz(fB[2]), sma3nz(fA[2]),
  ];
  const frames: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    const fr = new Float32Array(lldRaw.length);
    for (let j = 0; j < lldRaw.length; j++) fr[j] = lldRaw[j][t];
    frames.push(fr);
  }

  // ---------- functionals ----------
  const out: Record<string, number> = {};
  const secondsPerFrame = HOP_S;
  const duration = T * HOP_S;
  const ten = (name: string, v: Float64Array) => {
    const s = Float64Array.from(v).sort();
    const p = peaks(v, secondsPerFrame);
    const vals = [amean(v), stddevNorm(v), percentile(s, 0.2), percentile(s, 0.5), percentile(s, 0.8),
      percentile(s, 0.8) - percentile(s, 0.2), p.meanRisingSlope, p.stddevRisingSlope, p.meanFallingSlope, p.stddevFallingSlope];
    TEN.forEach((f, i) => { out[`${name}_${f}`] = vals[i]; });
  };
  const f0sm = lldRaw[10];
  ten(F0, nonZero(f0sm));
  ten('loudness_sma3', lldRaw[0]);
  const ms = (name: string, v: Float64Array) => { out[`${name}_amean`] = amean(v); out[`${name}_stddevNorm`] = stddevNorm(v); };
  ms('spectralFlux_sma3', lldRaw[5]);
  for (let k = 0; k < 4; k++) ms(`mfcc${k + 1}_sma3`, lldRaw[6 + k]);
  // voiced-only descriptors: zeroed where F0 = 0, sma3nz, then over the non-zero frames
  const voicedSrc = [jitter, shimmer, hnr, h1h2, h1a3, fF[0], fB[0], fA[0], fF[1], fB[1], fA[1], fF[2], fB[2], fA[2]];
  VOICED_LLD.forEach((l, i) => ms(`${l}_sma3nz`, nonZero(sma3nz(voicedOnly(voicedSrc[i])))));
  const spectralSrc = [alpha, hamm, slopeA, slopeB, flux];
  SPECTRAL.forEach((l, i) => {
    const vname = l.startsWith('slope') ? l.replace('slope', 'slopeV') : `${l}V`;
    ms(`${vname}_sma3nz`, nonZero(sma3nz(voicedOnly(spectralSrc[i]))));
  });
  for (let k = 0; k < 4; k++) ms(`mfcc${k + 1}V_sma3nz`, nonZero(sma3nz(voicedOnly(mfcc[k]))));
  SPECTRAL.forEach((l, i) => {
    const uname = l.startsWith('slope') ? l.replace('slope', 'slopeUV') : `${l}UV`;
    out[`${uname}_sma3nz_amean`] = amean(nonZero(sma3nz(unvoicedOnly(spectralSrc[i]))));
  });
  out.loudnessPeaksPerSec = peaks(lldRaw[0], secondsPerFrame).numPeaks / duration;
  const voicedRuns = runLengths(f0sm, true), unvoicedRuns = runLengths(f0sm, false);
  out.VoicedSegmentsPerSec = voicedRuns.length / duration;
  const [mv, sv] = meanStd(voicedRuns.map((n) => n * HOP_S));
  const [mu, su] = meanStd(unvoicedRuns.map((n) => n * HOP_S));
  out.MeanVoicedSegmentLengthSec = mv; out.StddevVoicedSegmentLengthSec = sv;
  out.MeanUnvoicedSegmentLength = mu; out.StddevUnvoicedSegmentLength = su;
  const leq = amean(energy);
  out.equivalentSoundLevel_dBp = 10 * Math.log10(Math.max(leq, 1e-12));

  const functionals: Record<string, number> = {};
  for (const n of EGEMAPS_NAMES) functionals[n] = out[n];
  return { functionals, lld: { names: EGEMAPS_LLD_NAMES, frames, hopSeconds: HOP_S } };
}
