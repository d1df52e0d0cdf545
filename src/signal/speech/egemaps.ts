/**
 * eGeMAPS v02 (Eyben et al. 2016, "The Geneva Minimalistic Acoustic Parameter Set"): 25 low-level
 * descriptors every 10 ms and the 88 functionals, with openSMILE 3.0's feature names.
 *
 * Frames (centred on t = (i + ½)·10 ms):
 *  - 60 ms, Gaussian window σ = 0.4: F0 (openSMILE's subharmonic summation + Viterbi smoother,
 *    55–1000 Hz, shs.ts; the project's normalised ACF + Viterbi with f0Method 'acf'), HNR,
 *    harmonics H1, H2 and the formant amplitudes;
 *  - 20 ms, Hamming window: loudness, alpha ratio, Hammarberg index, spectral slopes, flux, MFCC
 *    1–4, formants (LPC order 11 at 11 kHz);
 *  - the waveform itself: jitter and shimmer (openSMILE's cPitchJitter period walk, see jitter.ts).
 * LLDs are smoothed over 3 frames (sma3; sma3nz over voiced frames for the F0-related ones), then
 * summarised as openSMILE's eGeMAPSv02.conf does (see `EGEMAPS_NAMES` for the 88).
 */
import { decimate2 } from './resample.js';
import FFT from 'fft.js';
import { RealFft, gauss, hamming, nextPow2, quad, quadFrom3pts, windowedFrame } from './spectrum.js';
import { pitchCandidates, viterbiPitch, PITCH_DEFAULTS, type PitchCandidate, type PitchOptions } from './pitch.js';
import { pitchJitter } from './jitter.js';
import { formantsFromLpc, levinson } from './formants.js';
import { ShsSetup, shsCandidates, viterbiSmooth } from './shs.js';
import { amean, nonZero, peaks, percentile, segmentLengths, segmentStats, sma3, sma3nz, stddevNorm } from './functionals.js';

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
  /**
   * F0 tracker: 'shs' (default) = openSMILE's subharmonic summation + Viterbi smoother (shs.ts),
   * 'acf' = the project's normalised-ACF candidates + Praat-style path (pitch.ts).
   */
  f0Method?: 'shs' | 'acf';
  /** Frames whose Gaussian-windowed RMS is below this are unvoiced (openSMILE: 0.001). */
  voicingRmsFloor?: number;
}

export interface EgemapsResult {
  functionals: Record<string, number>;
  lld: { names: readonly string[]; frames: Float32Array[]; hopSeconds: number };
}

const HOP_S = 0.010;
const LPC_TARGET_FS = 11000;
const LPC_ORDER = 11;
const N_MEL = 26;
/** openSMILE's mel floor (cPlp melfloor; cMfcc's floor of 1.0 on the 32767²-scaled HTK spectrum). */
const MEL_FLOOR = 1 / (32767 * 32767);
/** openSMILE's floor of log-relative harmonic magnitudes (cHarmonics): unvoiced formant amplitudes. */
const LOG_REL_FLOOR = -201;

/**
 * Mel filter bank as openSMILE's cMelspec builds it: centre frequencies equally spaced on the mel
 * scale 1127 ln(1 + f/700) between loHz and hiHz, and triangles that are linear **in mel** (not in
 * Hz); FFT bins strictly between round(loHz/df) and round(hiHz/df) take part. Each bin feeds at
 * most two bands: `band[k]` gets `w[k]`·P[k] and `band[k]+1` gets (1 − w[k])·P[k].
 */
interface MelBank { k0: number; k1: number; band: Int32Array; w: Float64Array; centersHz: Float64Array; n: number }
function melBank(nBins: number, df: number, loHz: number, hiHz: number, n: number): MelBank {
  const mel = (f: number) => (f > 0 ? 1127 * Math.log(1 + f / 700) : 0);
  const inv = (m: number) => 700 * (Math.exp(m / 1127) - 1);
  const mLo = mel(loHz), mHi = mel(hiHz);
  const cf = Array.from({ length: n + 2 }, (_, i) => mLo + (mHi - mLo) * i / (n + 1));
  const nLo = Math.min(nBins, Math.round(loHz / df)), nHi = Math.min(nBins, Math.round(hiHz / df));
  const k0 = nLo + 1, k1 = nHi - 1; // bins k0..k1 inclusive
  const band = new Int32Array(Math.max(0, k1 - k0 + 1)); const w = new Float64Array(band.length);
  let m = 0;
  for (let k = k0; k <= k1; k++) {
    const nM = mel(k * df);
    while (m <= n && nM > cf[m + 1]) m++;
    w[k - k0] = (cf[m + 1] - nM) / (cf[m + 1] - cf[m]);
    band[k - k0] = m - 1; // falling slope of band m−1 (centre cf[m]), rising slope of band m
  }
  const centersHz = Float64Array.from({ length: n }, (_, b) => inv(cf[b + 1]));
  return { k0, k1, band, w, centersHz, n };
}
function applyMel(bank: MelBank, P: Float64Array, out: Float64Array): void {
  out.fill(0);
  const { k0, band, w, n } = bank;
  for (let i = 0; i < band.length; i++) {
    const p = P[k0 + i]; const b = band[i]; const a = p * w[i];
    if (b > -1) out[b] += a;
    if (b < n - 1) out[b + 1] += p - a;
  }
}

/** openSMILE's equal-loudness weight (smileDsp_equalLoudnessWeight: Hermansky's curve with its extra high-frequency term). */
function equalLoudness(fHz: number): number {
  const w = 2 * Math.PI * fHz; const w2 = w * w; const c = w2 + 6300000;
  return (1e32 * ((w2 + 56.8e6) * w2 * w2)) / (c * c * (w2 + 0.38e9) * (w2 * w2 * w2 * w + 1.7e31));
}

/** Per-sample-rate set-up, cached: windows, FFTs, filter banks, tables. */
class Setup {
  hop: number; len20: number; len60: number; n20: number; n60: number;
  win20: Float64Array; win60: Float64Array; fft20: RealFft; fft60: RealFft;
  /**
   * Complex FFT of the 60 ms size: two consecutive real frames at once (one as the real, one as the
   * imaginary part; fft.js's complex transform costs less than its two real ones), with its
   * interleaved input (zero beyond the frame, never written there) and output.
   */
  fft60c: FFT; pairIn: number[]; pairOut: number[];
  /** Complex FFT of the 20 ms size with its buffers (two 20 ms frames at once, `frame20Pair`). */
  fft20c: FFT; pair20In: number[]; pair20Out: number[];
  /** The same FFT's buffers for two voiced frames' ACFs (`acfPair`). */
  acfIn: number[]; acfOut: number[];
  /** Pitch ACF runs on the signal decimated by `dec` (to ≈ 8 kHz: F0 ≤ 1 kHz needs no more). */
  dec: number; fsP: number; len60P: number; win60P: Float64Array; fft60P: RealFft; maxLagP: number;
  winAcf60: Float64Array; bank: MelBank; loudWeight: Float64Array; shs: ShsSetup;
  dct: Float64Array;
  /** Formant LPC: openSMILE's cSpecResample of the 20 ms spectrum to ≈ 11 kHz (nOut samples per FFT period). */
  lpcFs: number; lpcK: number; lpcN: number;
  /**
   * Bluestein (chirp-z) evaluation of that inverse DFT: FFT size, chirps, and the chirp filter's
   * spectrum for each of the `lpcParts` blocks of `lpcL` outputs (one forward FFT, one inverse per block).
   */
  lpcFft: FFT; lpcPre: Float64Array; lpcPost: Float64Array; lpcB: Float64Array[]; lpcParts: number; lpcL: number;
  lpcA: number[]; lpcC: number[]; lpcD: number[]; lpcE: number[];
  constructor(public fs: number) {
    this.hop = Math.round(HOP_S * fs);
    this.len20 = Math.round(0.020 * fs); this.len60 = Math.round(0.060 * fs);
    this.n20 = nextPow2(this.len20);
    this.n60 = nextPow2(this.len60);
    this.win20 = hamming(this.len20); this.win60 = gauss(this.len60, 0.4);
    this.fft20 = new RealFft(this.n20); this.fft60 = new RealFft(this.n60);
    this.fft20c = new FFT(this.n20);
    this.pair20In = this.fft20c.createComplexArray() as number[]; this.pair20In.fill(0);
    this.pair20Out = this.fft20c.createComplexArray() as number[];
    this.fft60c = new FFT(this.n60);
    this.pairIn = this.fft60c.createComplexArray() as number[]; this.pairIn.fill(0);
    this.pairOut = this.fft60c.createComplexArray() as number[];
    this.acfIn = this.fft60c.createComplexArray() as number[]; this.acfOut = this.fft60c.createComplexArray() as number[];
    this.shs = new ShsSetup(this.n60, fs);
    this.dec = fs >= 16000 ? 2 : 1;
    this.fsP = fs / this.dec;
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
    this.bank = melBank(bins20, df20, 20, Math.min(8000, fs / 2), N_MEL);
    this.loudWeight = this.bank.centersHz.map(equalLoudness);
    this.dct = new Float64Array(4 * N_MEL);
    for (let k = 1; k <= 4; k++) {
      const lifter = 1 + 11 * Math.sin(Math.PI * k / 22);
      for (let j = 0; j < N_MEL; j++) this.dct[(k - 1) * N_MEL + j] = Math.sqrt(2 / N_MEL) * Math.cos(Math.PI * k * (j + 0.5) / N_MEL) * lifter;
    }
    // cSpecResample as openSMILE runs it on the zero-padded 20 ms FFT: the frame (len20 samples)
    // becomes nOut = round(len20 · 11000/fs) samples at fs·nd/n20 (nd = n20 · nOut/len20 samples per
    // FFT period), by an inverse DFT of the bins k < min(n20, nOut)/2 only (its anti-aliasing takes
    // the frame's output length, so at 16 kHz the band ends at 109 · 31.25 Hz ≈ 3.4 kHz)
    const nOut = Math.round(this.len20 * LPC_TARGET_FS / fs);
    const nd = this.n20 * nOut / this.len20;
    this.lpcFs = fs * nd / this.n20;
    let kMax = Math.min(this.n20, nOut); if (kMax & 1) kMax--;
    this.lpcK = kMax / 2; // bins 0..lpcK−1
    this.lpcN = nOut;
    // y[i] = Re Σ_{k<K} X_k W^{ik}, W = e^{2πi/nd}, i < nOut, by Bluestein's identity
    // ik = (i² + k² − (i − k)²)/2: y[i] = Re W^{i²/2} Σ_k (X_k W^{k²/2}) W^{−(i−k)²/2}, a linear
    // convolution done with power-of-two FFTs (nd need not be an integer nor a power of two). The
    // outputs are taken in P blocks of L: each block's convolution needs only L + K − 1 points, so
    // at 16 kHz (220 outputs, K = 110) one forward and two inverse 256-point FFTs replace one
    // forward and one inverse of 512 points (P chosen by the FFTs' n·log2 n).
    const K = this.lpcK;
    let best = Infinity;
    this.lpcParts = 1; this.lpcL = nOut; let M = nextPow2(nOut + K - 1);
    for (let P = 1; P <= 4; P++) {
      const L = Math.ceil(nOut / P), m = nextPow2(L + K - 1), cost = (P + 1) * m * Math.log2(m);
      if (cost < best) { best = cost; this.lpcParts = P; this.lpcL = L; M = m; }
    }
    this.lpcFft = new FFT(M);
    const chirp = (n: number, sign: number, dst: Float64Array | number[], o: number) => {
      const a = sign * Math.PI * n * n / nd; dst[o] = Math.cos(a); dst[o + 1] = Math.sin(a);
    };
    // openSMILE's cTransformFFT pads symmetrically (zeroPadSymmetric, its default): the frame sits at
    // pad = (n20 − len20)/2 in the FFT buffer, so its spectrum carries the phase e^{−2πik·pad/n20},
    // and the 220 output samples (the first 20 ms of the 32 ms period) hold the leading zeros and the
    // first ~70 % of the windowed frame. The shift is folded into the chirp.
    const pad = (this.n20 - this.len20) >> 1;
    this.lpcPre = new Float64Array(2 * K);
    for (let k = 0; k < K; k++) {
      const a = Math.PI * k * k / nd - 2 * Math.PI * k * pad / this.n20;
      this.lpcPre[2 * k] = Math.cos(a); this.lpcPre[2 * k + 1] = Math.sin(a);
    }
    this.lpcPost = new Float64Array(2 * nOut); for (let i = 0; i < nOut; i++) chirp(i, 1, this.lpcPost, 2 * i);
    // block p (outputs i0 = p·L .. i0 + L − 1): the filter W^{−n²/2} for n = i0 − (K − 1) .. i0 + L − 1,
    // n − i0 ≥ 0 at the start of the circular buffer, the negative offsets wrapped to its end
    this.lpcB = [];
    for (let p = 0; p < this.lpcParts; p++) {
      const i0 = p * this.lpcL;
      const b = this.lpcFft.createComplexArray() as number[]; b.fill(0);
      for (let m = 0; m < this.lpcL; m++) chirp(i0 + m, -1, b, 2 * m);
      for (let n = 1; n < K; n++) chirp(i0 - n, -1, b, 2 * (M - n));
      const B = this.lpcFft.createComplexArray() as number[];
      this.lpcFft.transform(B, b);
      this.lpcB.push(Float64Array.from(B));
    }
    this.lpcA = this.lpcFft.createComplexArray() as number[]; this.lpcA.fill(0); // bins ≥ K stay zero
    this.lpcC = this.lpcFft.createComplexArray() as number[];
    this.lpcD = this.lpcFft.createComplexArray() as number[];
    this.lpcE = this.lpcFft.createComplexArray() as number[];
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

/** The nearest bin to f at or above start − 1 (cHarmonics::freqToBin); 0 beyond the last bin. */
function toBin(f: number, start: number, df: number, nBins: number): number {
  const b = Math.max(1, start, Math.floor(f / df) + 1);
  if (b >= nBins) return 0;
  return b * df - f > f - (b - 1) * df ? b - 1 : b;
}

/** Strict local maximum (openSMILE cHarmonics::isPeak). */
function isPeak(x: ArrayLike<number>, N: number, n: number): boolean {
  if (n >= N || n < 0) return false;
  if (n + 1 < N) return n > 0 ? x[n] > x[n - 1] && x[n] > x[n + 1] : x[0] > x[1];
  return N > 1 && x[n] > x[n - 1];
}
const N_HARM = 100;
/**
 * Harmonic peaks of the 60 ms magnitude spectrum `mag` (bins 0..nBins−1, spacing df) as openSMILE's
 * cHarmonics finds them: for h = 1..100 the strict local maximum nearest to bin(h·F0) within
 * ±F0/2 (right side first), its magnitude, and the parabola-interpolated frequency and magnitude.
 */
function harmonicPeaks(F0: number, mag: Float64Array, nBins: number, df: number,
  bin: Int32Array, magn: Float64Array, fInt: Float64Array, mInt: Float64Array): void {
  let lastBin = toBin(0.5 * F0, 1, df, nBins);
  const firstBin = toBin(0.5 * F0, lastBin, df, nBins);
  for (let i = 0; i < N_HARM; i++) {
    const cand = toBin((i + 1) * F0, lastBin, df, nBins);
    let peak = -1;
    if (isPeak(mag, nBins, cand)) peak = cand;
    else {
      let L = cand - 1, R = cand + 1;
      const lo = toBin((i + 0.5) * F0, lastBin, df, nBins), hi = toBin((i + 1.5) * F0, cand, df, nBins);
      while ((L >= lo || R <= hi) && peak === -1) {
        if (R <= hi) { if (isPeak(mag, nBins, R)) { peak = R; break; } R++; }
        if (L >= lo) { if (isPeak(mag, nBins, L)) { peak = L; break; } L--; }
      }
    }
    if (peak >= firstBin && peak < nBins - 1 && peak > 0) {
      bin[i] = peak; magn[i] = mag[peak];
      quadFrom3pts((peak - 1) * df, mag[peak - 1], peak * df, mag[peak], (peak + 1) * df, mag[peak + 1]);
      fInt[i] = quad.x; mInt[i] = quad.y;
    } else { bin[i] = cand; magn[i] = 0; fInt[i] = 0; mInt[i] = 0; }
    lastBin = cand;
  }
}

/** Scratch buffers of one sample rate, allocated once and reused by every frame and every call. */
class Work {
  re20: Float64Array; im20: Float64Array; re20b: Float64Array; im20b: Float64Array; P20: Float64Array;
  prevMag: Float64Array; curMag: Float64Array; mel = new Float64Array(N_MEL);
  lpcR = new Float64Array(LPC_ORDER + 1); lpcY: Float64Array;
  lpcScratch = { a: new Float64Array(LPC_ORDER + 1), tmp: new Float64Array(LPC_ORDER + 1) };
  rootState = { zr: new Float64Array(0), zi: new Float64Array(0), done: new Uint8Array(0) };
  fmF = new Float64Array(5); fmB = new Float64Array(5);
  fr60P: Float64Array; P60P: Float64Array; acfP: Float64Array; rNorm: Float64Array;
  fr60: Float64Array; P60: Float64Array; mag60: Float64Array; acf60: Float64Array;
  hBin = new Int32Array(N_HARM); hMag = new Float64Array(N_HARM); hF = new Float64Array(N_HARM); hM = new Float64Array(N_HARM);
  logRel = new Float64Array(N_HARM); fIdx = new Int32Array(3);
  /** Two voiced frames' |ACF| (`acfPair`). */
  acfA: Float64Array; acfB: Float64Array;
  /** One frame's SHS candidates (f0, voicing × 6). */
  shsOut = new Float64Array(12);
  fluxBins: number;
  /** Power spectra of the 60 ms frames of one call (grown as needed, reused). */
  p60store = new Float64Array(0);
  p60For(T60: number): Float64Array {
    const need = T60 * this.P60.length;
    if (this.p60store.length < need) this.p60store = new Float64Array(Math.max(need, 2 * this.p60store.length));
    return this.p60store;
  }
  /** Lags of the 60 ms ACF the HNR looks at (down to the lowest F0 of the call). */
  acfLen = 0;
  constructor(S: Setup) {
    const bins20 = S.n20 / 2 + 1, binsP = S.fft60P.size / 2 + 1, bins60 = S.n60 / 2 + 1;
    this.re20 = new Float64Array(bins20); this.im20 = new Float64Array(bins20);
    this.re20b = new Float64Array(bins20); this.im20b = new Float64Array(bins20);
    this.P20 = new Float64Array(bins20); this.prevMag = new Float64Array(bins20); this.curMag = new Float64Array(bins20);
    this.lpcY = new Float64Array(S.lpcN);
    this.fr60P = new Float64Array(S.len60P); this.P60P = new Float64Array(binsP); this.acfP = new Float64Array(binsP); this.rNorm = new Float64Array(binsP);
    this.fr60 = new Float64Array(S.len60); this.P60 = new Float64Array(bins60); this.mag60 = new Float64Array(bins60); this.acf60 = new Float64Array(bins60);
    this.acfA = new Float64Array(bins60); this.acfB = new Float64Array(bins60);
    // cSpectral freqRange 0-5000: bins 0 .. the last one strictly below 5 kHz (0..159 at 16 kHz)
    this.fluxBins = Math.min(bins20 - 1, Math.ceil(5000 / (S.fs / S.n20)) - 1);
  }
}
const works = new Map<number, Work>();
function workFor(S: Setup): Work {
  let w = works.get(S.fs);
  if (!w) { w = new Work(S); works.set(S.fs, w); }
  return w;
}

/** The 20 ms descriptors of every frame (filled by `frame20`). */
interface Tracks20 {
  loud: Float64Array; alpha: Float64Array; hamm: Float64Array; slopeA: Float64Array; slopeB: Float64Array;
  flux: Float64Array; mfcc: Float64Array[]; fF: Float64Array[]; fB: Float64Array[]; energy: Float64Array;
}

/**
 * One 20 ms Hamming frame starting at s0 (a last one without a partner for `frame20Pair`): its
 * spectrum by a real FFT, then `spectral20`: energy, alpha ratio, Hammarberg index, slopes, flux,
 * loudness, MFCC 1–4 and formants into track slot t. The per-frame work is kept in small
 * monomorphic functions so that the JIT optimises them after a few frames of the first file (the
 * former single-function loop ran interpreted for most of the first files).
 */
function frame20(S: Setup, W: Work, x: Float32Array, s0: number, t: number, tr: Tracks20): void {
  const len = S.len20, win = S.win20, fr = S.fft20.input; // windowed straight into the FFT's input
  let e = 0;
  for (let i = 0; i < len; i++) {
    const j = s0 + i; const v = j < x.length ? x[j] : 0;
    e += v * v; fr[i] = v * win[i];
  }
  if (e !== 0) S.fft20.complexOfInput(len, W.re20, W.im20);
  spectral20(S, W, t, tr, e, W.re20, W.im20);
}

/**
 * `frame20` for the frames t and t + 1 (starting at s0 and s0 + hop) with one complex FFT of
 * z = u + i·v (u, v the two windowed frames): U_k = (Z_k + conj Z_{N−k})/2, V_k = (Z_k − conj Z_{N−k})/(2i)
 * (the same spectra as two real FFTs, to rounding; fft.js's complex transform costs less than two
 * of its real ones).
 */
function frame20Pair(S: Setup, W: Work, x: Float32Array, s0: number, t: number, tr: Tracks20): void {
  const len = S.len20, win = S.win20, z = S.pair20In, Z = S.pair20Out, s1 = s0 + S.hop, n = x.length;
  let e0 = 0, e1 = 0;
  for (let i = 0; i < len; i++) {
    const j0 = s0 + i, j1 = s1 + i;
    const u = j0 < n ? x[j0] : 0, v = j1 < n ? x[j1] : 0;
    e0 += u * u; e1 += v * v; z[2 * i] = u * win[i]; z[2 * i + 1] = v * win[i];
  }
  S.fft20c.transform(Z, z);
  const N = S.n20, re = W.re20, im = W.im20, re2 = W.re20b, im2 = W.im20b;
  for (let k = 0; k <= N / 2; k++) {
    const j = (N - k) & (N - 1);
    const ar = Z[2 * k], ai = Z[2 * k + 1], br = Z[2 * j], bi = Z[2 * j + 1];
    re[k] = 0.5 * (ar + br); im[k] = 0.5 * (ai - bi);
    re2[k] = 0.5 * (ai + bi); im2[k] = -0.5 * (ar - br);
  }
  spectral20(S, W, t, tr, e0, re, im);
  spectral20(S, W, t + 1, tr, e1, re2, im2);
}

/**
 * The descriptors of the 20 ms frame t from its energy e (sum of squares) and its spectrum (re, im):
 * energy, alpha ratio, Hammarberg index, slopes, flux, loudness, MFCC 1–4 and formants into track
 * slot t (the frames in order: the flux compares with the previous one).
 */
function spectral20(S: Setup, W: Work, t: number, tr: Tracks20, e: number, re: Float64Array, im: Float64Array): void {
  const len = S.len20;
  tr.energy[t] = e / len; // energy2: mean square of the frame
  const fluxBins = W.fluxBins;
  if (e === 0) {
    // digital silence: every 20 ms descriptor is 0 except the flux against the previous frame
    const prev = W.prevMag;
    if (t > 0) { let d = 0; for (let k = 0; k <= fluxBins; k++) d += prev[k] * prev[k]; tr.flux[t] = Math.sqrt(d / (fluxBins + 1)); }
    prev.fill(0);
    let L = 0; for (let b = 0; b < N_MEL; b++) L += Math.pow(MEL_FLOOR * S.loudWeight[b], 0.33) / N_MEL;
    tr.loud[t] = L;
    return;
  }
  const bins20 = S.n20 / 2 + 1, df20 = S.fs / S.n20;
  const P = W.P20;
  for (let k = 0; k < bins20; k++) P[k] = re[k] * re[k] + im[k] * im[k];
  // alpha ratio: 10 log10(E[1–5 kHz] / E[0–1 kHz]); Hammarberg: 10 log10(max P[0–2 kHz] / max P[2–5 kHz])
  let s01 = 0, s15 = 0, m02 = 0, m25 = 0;
  for (let k = 0; k < bins20; k++) {
    const f = k * df20; if (f > 5000) break;
    const p = P[k];
    if (f < 1000) s01 += p; else s15 += p;
    if (f < 2000) { if (p > m02) m02 = p; } else if (p > m25) m25 = p;
  }
  tr.alpha[t] = s01 > 0 ? 10 * Math.log10(Math.max(s15, SPEC_FLOOR) / s01) : 0;
  tr.hamm[t] = m25 > 0 ? 10 * Math.log10(Math.max(m02, SPEC_FLOOR) / m25) : 0;
  tr.slopeA[t] = logSpectralSlope(P, df20, 0, 500);
  tr.slopeB[t] = logSpectralSlope(P, df20, 500, 1500);
  // spectral flux: RMS difference of consecutive magnitude spectra, 0–5 kHz
  const cur = W.curMag, prev = W.prevMag;
  for (let k = 0; k < bins20; k++) cur[k] = Math.sqrt(P[k]);
  if (t > 0) {
    let d = 0; for (let k = 0; k <= fluxBins; k++) { const u = cur[k] - prev[k]; d += u * u; }
    tr.flux[t] = Math.sqrt(d / (fluxBins + 1));
  }
  W.prevMag = cur; W.curMag = prev;
  // mel bands (power; cMelspec) → loudness (cPlp: floor, equal-loudness weight, ^0.33, mean over
  // the bands = cVectorOperation ll1) and MFCC 1–4 (HTK: ln with the floor, DCT-II, lifter 22)
  const mel = W.mel;
  applyMel(S.bank, P, mel);
  let L = 0;
  for (let b = 0; b < N_MEL; b++) {
    const m = mel[b] < MEL_FLOOR ? MEL_FLOOR : mel[b];
    L += Math.pow(m * S.loudWeight[b], 0.33);
    mel[b] = Math.log(m);
  }
  tr.loud[t] = L / N_MEL;
  for (let k = 0; k < 4; k++) { let s = 0; for (let b = 0; b < N_MEL; b++) s += S.dct[k * N_MEL + b] * mel[b]; tr.mfcc[k][t] = s; }
  formants20(S, W, t, tr, re, im);
}

/**
 * Formants: LPC (order 11, autocorrelation method) of the 20 ms spectrum resampled to ≈ 11 kHz
 * (openSMILE cSpecResample → cLpc → cFormantLpc: no pre-emphasis, roots reflected into the unit
 * circle, every complex root between 50 and 5450 Hz, no bandwidth limit).
 */
function formants20(S: Setup, W: Work, t: number, tr: Tracks20, re: Float64Array, im: Float64Array): void {
  // the frame band-limited to bins < K and resampled: y[i] = re[0] + Σ_{0<k<K} Re(X_k e^{2πiki/nd})
  // (cSpecResample's inverse DFT), by the chirp-z convolution prepared in Setup
  const K = S.lpcK, N = S.lpcN, y = W.lpcY;
  const A = S.lpcA, C = S.lpcC, D = S.lpcD, E = S.lpcE, pre = S.lpcPre, post = S.lpcPost, M2 = A.length;
  A[0] = re[0]; A[1] = 0;
  for (let k = 1; k < K; k++) {
    const c = pre[2 * k], s = pre[2 * k + 1];
    A[2 * k] = re[k] * c - im[k] * s; A[2 * k + 1] = re[k] * s + im[k] * c;
  }
  S.lpcFft.transform(C, A);
  // each block's inverse FFT as the forward FFT of the conjugate (conj(FFT(conj D)) = M·IFFT(D), with
  // the same operations up to signs), its 1/M folded into the output: a power of two, exact — the
  // same values as fft.js's inverseTransform without its division pass
  const invM = 2 / M2;
  for (let p = 0, i0 = 0; p < S.lpcParts; p++, i0 += S.lpcL) {
    const B = S.lpcB[p];
    for (let j = 0; j < M2; j += 2) {
      const ar = C[j], ai = C[j + 1], br = B[j], bi = B[j + 1];
      D[j] = ar * br - ai * bi; D[j + 1] = -(ar * bi + ai * br);
    }
    S.lpcFft.transform(E, D);
    const end = Math.min(N - i0, S.lpcL);
    for (let m = 0; m < end; m++) { const i = i0 + m; y[i] = (E[2 * m] * post[2 * i] + E[2 * m + 1] * post[2 * i + 1]) * invM; }
  }
  // autocorrelation r[lag] = Σ_{i ≥ lag} y[i]·y[i − lag], lags 0..11, in one pass over y (each lag's
  // terms still added in rising i)
  const r = W.lpcR;
  autocorr12(y, N, r);
  const a = levinson(r, LPC_ORDER, W.lpcScratch);
  if (!a) return;
  // openSMILE's cFormantLpc builds its root polynomial from the negated predictor
  // (z^p − Σ a_k z^(p−k) where cLpc's A(z) = 1 + Σ a_k z^−k): parity means the same polynomial
  for (let k = 1; k <= LPC_ORDER; k++) a[k] = -a[k];
  const nF = formantsFromLpc(a, S.lpcFs, 50, 5450, W.rootState, W.fmF, W.fmB);
  for (let k = 0; k < 3; k++) { tr.fF[k][t] = k < nF ? W.fmF[k] : 0; tr.fB[k][t] = k < nF ? W.fmB[k] : 0; }
}

/**
 * r[lag] = Σ_{i=lag}^{n−1} y[i]·y[i − lag] for lag = 0..LPC_ORDER (11), the twelve sums kept in
 * registers through one pass over y (the same additions, in the same order, as one pass per lag).
 */
function autocorr12(y: Float64Array, n: number, r: Float64Array): void {
  r.fill(0);
  const head = Math.min(n, LPC_ORDER);
  for (let i = 0; i < head; i++) for (let lag = 0; lag <= i; lag++) r[lag] += y[i] * y[i - lag];
  let r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], r4 = r[4], r5 = r[5];
  let r6 = r[6], r7 = r[7], r8 = r[8], r9 = r[9], r10 = r[10], r11 = r[11];
  for (let i = head; i < n; i++) {
    const v = y[i];
    r0 += v * v; r1 += v * y[i - 1]; r2 += v * y[i - 2]; r3 += v * y[i - 3]; r4 += v * y[i - 4]; r5 += v * y[i - 5];
    r6 += v * y[i - 6]; r7 += v * y[i - 7]; r8 += v * y[i - 8]; r9 += v * y[i - 9]; r10 += v * y[i - 10]; r11 += v * y[i - 11];
  }
  r[0] = r0; r[1] = r1; r[2] = r2; r[3] = r3; r[4] = r4; r[5] = r5;
  r[6] = r6; r[7] = r7; r[8] = r8; r[9] = r9; r[10] = r10; r[11] = r11;
}

/**
 * The 60 ms Gaussian frame starting at s0 with SHS: its RMS (the voicing floor, full rate) into
 * rms60[t], its power spectrum into p60store (kept for the voiced frames' HNR and harmonics), and
 * the SHS candidates into shsCand[12t ..]. openSMILE runs SHS and its smoother on every frame; the
 * RMS floor applies after (volmerge). The frame is windowed straight into the FFT's input.
 */
function frame60Shs(S: Setup, W: Work, x: Float32Array, s0: number, t: number, rms60: Float64Array, p60store: Float64Array, shsCand: Float64Array): void {
  const fr60 = S.fft60.input, win60 = S.win60, len60 = S.len60;
  let e60 = 0;
  for (let i = 0; i < len60; i++) { const v = x[s0 + i] * win60[i]; fr60[i] = v; e60 += v * v; }
  rms60[t] = Math.sqrt(e60 / len60);
  const mag = W.mag60, nb = mag.length, o = t * nb;
  S.fft60.powerOfInput(len60, p60store, o);
  for (let k = 0; k < nb; k++) mag[k] = Math.sqrt(p60store[o + k]);
  shsCandidates(S.shs, mag, W.shsOut);
  for (let c = 0; c < 12; c++) shsCand[t * 12 + c] = W.shsOut[c];
}

/**
 * `frame60Shs` for the frames t and t + 1 (starting at s0 and s0 + hop) with one complex FFT of
 * z = u + i·v (u, v the two windowed frames): U_k = (Z_k + conj Z_{N−k})/2 and
 * V_k = (Z_k − conj Z_{N−k})/(2i), so |U_k|² = ((Re Z_k + Re Z_{N−k})² + (Im Z_k − Im Z_{N−k})²)/4 and
 * |V_k|² = ((Im Z_k + Im Z_{N−k})² + (Re Z_k − Re Z_{N−k})²)/4 (the same spectra as two real FFTs, to
 * rounding).
 */
function frame60ShsPair(S: Setup, W: Work, x: Float32Array, s0: number, t: number, rms60: Float64Array, p60store: Float64Array, shsCand: Float64Array): void {
  const z = S.pairIn, Z = S.pairOut, win60 = S.win60, len60 = S.len60, s1 = s0 + S.hop;
  let e0 = 0, e1 = 0;
  for (let i = 0; i < len60; i++) {
    const w = win60[i], u = x[s0 + i] * w, v = x[s1 + i] * w;
    z[2 * i] = u; z[2 * i + 1] = v; e0 += u * u; e1 += v * v;
  }
  rms60[t] = Math.sqrt(e0 / len60); rms60[t + 1] = Math.sqrt(e1 / len60);
  S.fft60c.transform(Z, z);
  const N = S.n60, nb = W.mag60.length, o0 = t * nb, o1 = o0 + nb;
  for (let k = 0; k < nb; k++) {
    const j = (N - k) & (N - 1);
    const ar = Z[2 * k], ai = Z[2 * k + 1], br = Z[2 * j], bi = Z[2 * j + 1];
    const ur = ar + br, ui = ai - bi, vr = ai + bi, vi = ar - br;
    p60store[o0 + k] = 0.25 * (ur * ur + ui * ui); p60store[o1 + k] = 0.25 * (vr * vr + vi * vi);
  }
  for (let f = 0; f < 2; f++) {
    const mag = W.mag60, o = f === 0 ? o0 : o1;
    for (let k = 0; k < nb; k++) mag[k] = Math.sqrt(p60store[o + k]);
    shsCandidates(S.shs, mag, W.shsOut);
    for (let c = 0; c < 12; c++) shsCand[(t + f) * 12 + c] = W.shsOut[c];
  }
}

/**
 * |ACF| (lags < W.acfLen) of the 60 ms frames t1 and t2 from their stored power spectra, into W.acfA
 * and W.acfB, with one complex FFT: the even extensions q1, q2 of the two power spectra are real
 * and even, so their transforms are real and FFT(q1 + i·q2) = R1 + i·R2 (the same as two real
 * transforms, to rounding; Wiener–Khinchin as RealFft.acfFromPower).
 */
function acfPair(S: Setup, W: Work, store: Float64Array, t1: number, t2: number): void {
  const N = S.n60, h = N / 2, nb = h + 1, o1 = t1 * nb, o2 = t2 * nb, z = S.acfIn, Z = S.acfOut;
  for (let k = 0; k <= h; k++) { z[2 * k] = store[o1 + k]; z[2 * k + 1] = store[o2 + k]; }
  for (let k = h + 1; k < N; k++) { z[2 * k] = store[o1 + N - k]; z[2 * k + 1] = store[o2 + N - k]; }
  S.fft60c.transform(Z, z);
  const a = W.acfA, b = W.acfB, len = W.acfLen;
  for (let k = 0; k < len; k++) { a[k] = Math.abs(Z[2 * k] / N); b[k] = Math.abs(Z[2 * k + 1] / N); }
}

/** RMS of the 60 ms Gaussian frame starting at s0 (the voicing floor of the ACF tracker). */
function frame60Rms(S: Setup, x: Float32Array, s0: number): number {
  const win60 = S.win60, len60 = S.len60;
  let e60 = 0;
  for (let i = 0; i < len60; i++) { const v = x[s0 + i] * win60[i]; e60 += v * v; }
  return Math.sqrt(e60 / len60);
}

/** Pitch candidates of the 60 ms frame starting at s0 (ACF on the decimated signal xP). */
function pitchFrame(S: Setup, W: Work, xP: Float32Array, s0: number, po: PitchOptions): PitchCandidate[] {
  windowedFrame(xP, Math.round((s0 + (S.len60 >> 1)) / S.dec), S.len60P, S.win60P, W.fr60P, true);
  const acfP = W.acfP, rNorm = W.rNorm;
  S.fft60P.power(W.fr60P, W.P60P);
  S.fft60P.acfFromPower(W.P60P, acfP);
  if (!(acfP[0] > 0)) return [];
  const lim = Math.min(acfP.length, S.maxLagP + 2);
  const inv0 = 1 / acfP[0];
  for (let k = 0; k < lim; k++) rNorm[k] = acfP[k] * inv0 / Math.max(S.winAcf60[k], 1e-3);
  return pitchCandidates(rNorm.subarray(0, lim), S.fsP, po, []);
}

/** Voice-quality descriptors of one voiced frame, into slot t (see `voiceFrame`). */
interface Voice { hnr: Float64Array; h1h2: Float64Array; h1a3: Float64Array; fA: Float64Array[] }

/**
 * cHarmonics on the voiced 60 ms Gaussian frame starting at s0 with F0 = F: HNR from the frame's
 * circular ACF, harmonic peaks of its magnitude spectrum, H1–H2, H1–A3 and the formant amplitudes.
 * Runs only where the F0 path is voiced (openSMILE leaves these descriptors at 0 / −201 elsewhere),
 * one power spectrum feeding both the magnitudes and the ACF.
 */
function voiceFrame(S: Setup, W: Work, x: Float32Array, s0: number, F: number, t: number, fF: Float64Array[], v: Voice, stored: Float64Array | null, acfIn: Float64Array | null): void {
  const fs = S.fs, len = S.len60, win = S.win60, fr = W.fr60;
  const bins60 = S.n60 / 2 + 1, df60 = fs / S.n60;
  const P = W.P60, mag = W.mag60, acf = acfIn ?? W.acf60;
  if (stored) P.set(stored.subarray(t * bins60, (t + 1) * bins60));
  else {
    for (let i = 0; i < len; i++) fr[i] = x[s0 + i] * win[i];
    S.fft60.power(fr, P);
  }
  for (let k = 0; k < bins60; k++) mag[k] = Math.sqrt(P[k]);
  const acfLen = W.acfLen;
  if (!acfIn) {
    S.fft60.acfFromPower(P, acf);
    for (let k = 0; k < acfLen; k++) acf[k] = Math.abs(acf[k]);
  }
  // HNR (cHarmonics): ACF peak nearest to lag floor(fs/F0); 10 log10(r(τ) / (r(0) − r(τ))), −90..110 dB
  let lag = Math.floor(fs / F);
  if (lag < acfLen - 1) {
    if (!isPeak(acf, acfLen, lag)) {
      let o = 1; let found = -1;
      while (lag - o > 0 || lag + o < acfLen - 1) {
        if (lag - o > 0 && isPeak(acf, acfLen, lag - o)) { found = lag - o; break; }
        if (lag + o < acfLen - 1 && isPeak(acf, acfLen, lag + o)) { found = lag + o; break; }
        o++;
      }
      if (found >= 0) lag = found;
    }
    const d = acf[0] - acf[lag];
    let h = d === 0 ? 1e11 : acf[lag] / d;
    h = Math.min(1e11, Math.max(1e-9, h));
    v.hnr[t] = 10 * Math.log10(h);
  }
  // harmonics, H1–H2, H1–A3, formant amplitudes (cHarmonics)
  const hBin = W.hBin, hMag = W.hMag, hF = W.hF, hM = W.hM, logRel = W.logRel, fIdx = W.fIdx;
  harmonicPeaks(F, mag, bins60, df60, hBin, hMag, hF, hM);
  const m0 = hMag[0];
  // harmonics on the bin of the one before are dropped (in order: a dropped one's bin becomes 0);
  // the levels relative to F0 are computed only where read below (NaN: not computed yet)
  logRel[0] = 0;
  for (let i = 1; i < N_HARM; i++) {
    if (hBin[i] === hBin[i - 1]) { hBin[i] = 0; hF[i] = 0; hMag[i] = 0; hM[i] = 0; logRel[i] = LOG_REL_FLOOR; } else logRel[i] = NaN;
  }
  const lm0 = m0 > 0 ? Math.log10(m0) : 0;
  const l1 = logRelAt(logRel, hM, 1, m0, lm0);
  // openSMILE's "H1" and "H2" index its harmonic array from 0 = F0, so its H1–H2 is the level of
  // the 2nd harmonic minus the 3rd, and H1–A3 the 2nd harmonic minus the F3 amplitude
  v.h1h2[t] = clamp201(l1 - logRelAt(logRel, hM, 2, m0, lm0));
  for (let k = 0; k < 3; k++) {
    const c = fF[k][t]; const lo = 0.8 * c, hi = 1.2 * c;
    let best = -1, bm = 0;
    for (let h = 0; h < N_HARM; h++) if (hF[h] >= lo && hF[h] <= hi && hMag[h] > bm) { best = h; bm = hMag[h]; }
    fIdx[k] = best;
  }
  v.h1a3[t] = fIdx[2] >= 0 ? clamp201(l1 - logRelAt(logRel, hM, fIdx[2], m0, lm0)) : clamp201(l1 - 201);
  for (let k = 0; k < 3; k++) v.fA[k][t] = fIdx[k] >= 0 ? logRelAt(logRel, hM, fIdx[k], m0, lm0) : 0;
}
/**
 * Level of harmonic i relative to F0's (cHarmonics: 20 log10(H_i / H_0), floored at −200; −201 when
 * F0's peak has no magnitude), or the value already in logRel[i] when that is not NaN.
 */
function logRelAt(logRel: Float64Array, hM: Float64Array, i: number, m0: number, lm0: number): number {
  const v = logRel[i];
  if (v === v) return v;
  return m0 > 0 ? (hM[i] > 0 ? Math.max(-200, 20 * (Math.log10(hM[i]) - lm0)) : -200) : LOG_REL_FLOOR;
}
const clamp201 = (v: number) => Math.max(-201, Math.min(201, v));

/** Compute the eGeMAPS v02 LLDs and functionals of mono `samples` at `sampleRate`. */
export function extractEgemaps(samples: Float32Array, sampleRate: number, opts: EgemapsOptions = {}): EgemapsResult {
  const fs = sampleRate;
  const S = setupFor(fs);
  const W = workFor(S);
  W.rootState.zr = new Float64Array(0); W.rootState.zi = new Float64Array(0);
  W.prevMag.fill(0);
  const po: PitchOptions = { ...PITCH_DEFAULTS, ...opts.pitch };
  const rmsFloor = opts.voicingRmsFloor ?? 0.001;
  W.acfLen = Math.min(S.n60 / 2 + 1, Math.ceil(fs / po.minF0) + 4);
  const x = samples;
  // openSMILE's framing: frame t covers [t·hop, t·hop + len) ("frameCenterSpecial = left"),
  // whole frames only; the 60 ms levels have fewer frames than the 20 ms ones.
  const T = Math.max(1, Math.floor((x.length - S.len20) / S.hop) + 1);
  const T60 = Math.max(0, Math.min(T, Math.floor((x.length - S.len60) / S.hop) + 1));

  // LLD tracks
  const tr: Tracks20 = {
    loud: new Float64Array(T), alpha: new Float64Array(T), hamm: new Float64Array(T),
    slopeA: new Float64Array(T), slopeB: new Float64Array(T), flux: new Float64Array(T),
    mfcc: [new Float64Array(T), new Float64Array(T), new Float64Array(T), new Float64Array(T)],
    fF: [new Float64Array(T), new Float64Array(T), new Float64Array(T)],
    fB: [new Float64Array(T), new Float64Array(T), new Float64Array(T)],
    energy: new Float64Array(T),
  };
  const { loud, alpha, hamm, slopeA, slopeB, flux, mfcc, fF, fB, energy } = tr;
  const rms60 = new Float64Array(T60); const localPeak = new Float64Array(T60);
  const cands: PitchCandidate[][] = new Array(T60);
  const useShs = (opts.f0Method ?? 'shs') === 'shs';
  const shsCand = new Float64Array(useShs ? T60 * 12 : 0);
  const p60store = useShs ? W.p60For(T60) : null;
  const xP = useShs ? x : S.dec > 1 ? decimate2(x) : x;
  // the ACF tracker's path costs use the signal's peaks (per 10 ms block, and overall)
  let globalPeak = 0;
  const nBlocks = useShs ? 0 : Math.ceil(x.length / S.hop) + 1;
  const blockPeak = new Float64Array(nBlocks);
  for (let i = 0; i < (useShs ? 0 : x.length); i++) {
    const a = Math.abs(x[i]); const b = (i / S.hop) | 0;
    if (a > blockPeak[b]) blockPeak[b] = a;
    if (a > globalPeak) globalPeak = a;
  }

  // the per-frame work lives in small functions (frame20, frame60Shs, frame60Acf) and this loop holds
  // no inner loop: a hot inner loop here made V8 compile this whole function on stack (OSR) with no
  // type feedback yet for the code after the loop, and that code deoptimised it again on every call
  for (let t = 0; t < T; t++) {
    const s0 = t * S.hop;
    // the 20 ms frames in pairs (t, t + 1), one complex FFT for both; a last odd one alone
    if ((t & 1) === 0) { if (t + 1 < T) frame20Pair(S, W, x, s0, t, tr); else frame20(S, W, x, s0, t, tr); }
    if (t >= T60) continue;
    if (useShs) {
      // the 60 ms frames in pairs (t, t + 1), one complex FFT for both; a last odd one alone
      if (t + 1 < T60) { if ((t & 1) === 0) frame60ShsPair(S, W, x, s0, t, rms60, p60store!, shsCand); }
      else if ((t & 1) === 0) frame60Shs(S, W, x, s0, t, rms60, p60store!, shsCand);
    }
    else {
      rms60[t] = frame60Rms(S, x, s0);
      let pk = 0; // the frame's absolute peak from the per-hop block maxima it covers
      const b0 = Math.floor(s0 / S.hop), b1 = Math.min(nBlocks - 1, Math.floor((s0 + S.len60 - 1) / S.hop));
      for (let b = b0; b <= b1; b++) if (blockPeak[b] > pk) pk = blockPeak[b];
      localPeak[t] = pk;
      cands[t] = rms60[t] < rmsFloor ? [] : pitchFrame(S, W, xP, s0, po); // below the floor: unvoiced (openSMILE volmerge)
    }
  }

  // ---------- F0 path, voicing (T60 frames; the 20 ms frames beyond count as unvoiced) ----------
  const vit = useShs ? viterbiSmooth(shsCand, T60) : { f0: viterbiPitch(cands, localPeak, globalPeak, po).f0, decided: T60 };
  const f0path = vit.f0;
  const f0 = new Float64Array(T);
  for (let t = 0; t < T60; t++) f0[t] = rms60[t] < rmsFloor ? 0 : f0path[t];
  const f0st = new Float64Array(T);
  for (let t = 0; t < T; t++) f0st[t] = f0[t] > 0 ? 12 * Math.log2(f0[t] / 27.5) : 0;

  // ---------- voice quality ----------
  // jitter and shimmer: openSMILE's cPitchJitter walk over the waveform with the F0 of each 60 ms frame
  const js = pitchJitter(x, fs, f0.subarray(0, T60), S.hop, S.len60);
  const jitter = new Float64Array(T), shimmer = new Float64Array(T);
  jitter.set(js.jitter); shimmer.set(js.shimmer);
  const voice: Voice = { hnr: new Float64Array(T), h1h2: new Float64Array(T), h1a3: new Float64Array(T),
    fA: [new Float64Array(T), new Float64Array(T), new Float64Array(T)] };
  const { hnr, h1h2, h1a3, fA } = voice;
  // (with SHS the voiced frames' ACFs in pairs, one complex FFT for two: see acfPair)
  let pend = -1;
  for (let t = 0; t < T60; t++) {
    if (!(f0[t] > 0)) { for (let k = 0; k < 3; k++) fA[k][t] = LOG_REL_FLOOR; continue; }
    if (!useShs) { voiceFrame(S, W, x, t * S.hop, f0[t], t, fF, voice, null, null); continue; }
    if (pend < 0) { pend = t; continue; }
    acfPair(S, W, p60store!, pend, t);
    voiceFrame(S, W, x, pend * S.hop, f0[pend], pend, fF, voice, p60store, W.acfA);
    voiceFrame(S, W, x, t * S.hop, f0[t], t, fF, voice, p60store, W.acfB);
    pend = -1;
  }
  if (pend >= 0) voiceFrame(S, W, x, pend * S.hop, f0[pend], pend, fF, voice, p60store, null);
  // unvoiced 60 ms frames beyond T60 carry no harmonics level at all
  const fAv = fA.map((v) => v.subarray(0, T60));

  // ---------- smoothing ----------
  // the first T60 frames where voiced (gate) or unvoiced (ungate), 0 elsewhere
  const gate = (v: Float64Array) => { const o = new Float64Array(T60); for (let t = 0; t < T60; t++) if (f0[t] > 0) o[t] = v[t]; return o; };
  const ungate = (v: Float64Array) => { const o = new Float64Array(T60); for (let t = 0; t < T60; t++) if (!(f0[t] > 0)) o[t] = v[t]; return o; };
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
  // Every functional of a level that follows openSMILE's F0 path (F0, its segments, voice quality,
  // V and UV spectral) runs at the end of the input before its F0 smoother's flush has reached it:
  // it sees the frames that smoother had decided by then (`decided`, data-dependent), smoothed with
  // the complete contour. Measured on EmoDB by dumping its levels: amean and stddevNorm then agree
  // to 1e-7, and the F0 and segment functionals with it.
  const D = vit.decided;
  const f0sm = sma3nz(f0st.subarray(0, T60)).subarray(0, D);
  const sm = (v: Float64Array) => nonZero(sma3nz(v).subarray(0, D));
  const ten = (name: string, v: Float64Array) => {
    const s = Float64Array.from(v).sort();
    const p = peaks(v, secondsPerFrame);
    const vals = [amean(v), stddevNorm(v), percentile(s, 0.2), percentile(s, 0.5), percentile(s, 0.8),
      percentile(s, 0.8) - percentile(s, 0.2), p.meanRisingSlope, p.stddevRisingSlope, p.meanFallingSlope, p.stddevFallingSlope];
    TEN.forEach((f, i) => { out[`${name}_${f}`] = vals[i]; });
  };
  ten(F0, nonZero(f0sm));
  ten('loudness_sma3', lldRaw[0]);
  const ms = (name: string, v: Float64Array) => { out[`${name}_amean`] = amean(v); out[`${name}_stddevNorm`] = stddevNorm(v); };
  ms('spectralFlux_sma3', lldRaw[5]);
  for (let k = 0; k < 4; k++) ms(`mfcc${k + 1}_sma3`, lldRaw[6 + k]);
  // voice-quality descriptors as openSMILE selects them: jitter, shimmer, HNR, H1–H2, H1–A3 and the
  // formant amplitudes straight from their components (0 when unvoiced; the amplitudes −201 dB),
  // formant frequencies and bandwidths zeroed where unvoiced; sma3nz, then over the non-zero frames
  const voicedSrc = [jitter.subarray(0, T60), shimmer.subarray(0, T60), hnr.subarray(0, T60), h1h2.subarray(0, T60), h1a3.subarray(0, T60),
    gate(fF[0]), gate(fB[0]), fAv[0], gate(fF[1]), gate(fB[1]), fAv[1], gate(fF[2]), gate(fB[2]), fAv[2]];
  VOICED_LLD.forEach((l, i) => ms(`${l}_sma3nz`, sm(voicedSrc[i])));
  const spectralSrc = [alpha, hamm, slopeA, slopeB, flux];
  SPECTRAL.forEach((l, i) => {
    const vname = l.startsWith('slope') ? l.replace('slope', 'slopeV') : `${l}V`;
    ms(`${vname}_sma3nz`, sm(gate(spectralSrc[i])));
  });
  for (let k = 0; k < 4; k++) ms(`mfcc${k + 1}V_sma3nz`, sm(gate(mfcc[k])));
  SPECTRAL.forEach((l, i) => {
    const uname = l.startsWith('slope') ? l.replace('slope', 'slopeUV') : `${l}UV`;
    out[`${uname}_sma3nz_amean`] = amean(sm(ungate(spectralSrc[i])));
  });
  out.loudnessPeaksPerSec = peaks(lldRaw[0], secondsPerFrame).numPeaks / (T * HOP_S);
  // cFunctionalSegments on the smoothed F0 contour (its D decided frames, see above): voiced = nonX,
  // unvoiced = eqX (X = 0), in seconds; the rate over D frames' duration
  const dur60 = Math.max(1, D) * HOP_S;
  const voicedSeg = segmentLengths(f0sm, false), unvoicedSeg = segmentLengths(f0sm, true);
  out.VoicedSegmentsPerSec = voicedSeg.length / dur60;
  const [mv, sv] = segmentStats(voicedSeg);
  const [mu, su] = segmentStats(unvoicedSeg);
  out.MeanVoicedSegmentLengthSec = mv * HOP_S; out.StddevVoicedSegmentLengthSec = sv * HOP_S;
  out.MeanUnvoicedSegmentLength = mu * HOP_S; out.StddevUnvoicedSegmentLength = su * HOP_S;
  const leq = amean(energy);
  out.equivalentSoundLevel_dBp = 10 * Math.log10(Math.max(leq, 1e-12));

  const functionals: Record<string, number> = {};
  for (const n of EGEMAPS_NAMES) functionals[n] = out[n];
  return { functionals, lld: { names: EGEMAPS_LLD_NAMES, frames, hopSeconds: HOP_S } };
}
