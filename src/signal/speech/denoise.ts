/**
 * Denoising by spectral subtraction with a Wiener-style gain (Boll 1979; Berouti et al. 1979).
 * STFT with a √Hann analysis/synthesis pair (32 ms, 50 % overlap → perfect reconstruction at unit
 * gain). The noise power spectrum N(k) is the mean of the quietest 10 % of frames; each bin gets
 *   G = max(1 − α N(k)/P(k), β)   (over-subtraction α = 2, spectral floor β = 0.1),
 * then frames are overlap-added.
 */
import { nextPow2 } from './spectrum.js';
import FFT from 'fft.js';

export interface DenoiseOptions { alpha?: number; floor?: number; frameMs?: number; noiseQuantile?: number }

export function spectralSubtraction(x: Float32Array, fs: number, opts: DenoiseOptions = {}): Float32Array {
  const alpha = opts.alpha ?? 2; const beta = opts.floor ?? 0.1; const q = opts.noiseQuantile ?? 0.1;
  const N = nextPow2(Math.round((opts.frameMs ?? 32) * fs / 1000));
  const hop = N / 2;
  const win = new Float64Array(N);
  for (let i = 0; i < N; i++) win[i] = Math.sqrt(0.5 - 0.5 * Math.cos(2 * Math.PI * i / N)); // periodic √Hann
  const nFrames = Math.max(1, Math.ceil((x.length + hop) / hop));
  const fft = new FFT(N);
  const spectra: Float64Array[] = [];
  const inp = new Float64Array(N);
  const frameEnergy = new Float64Array(nFrames);
  for (let f = 0; f < nFrames; f++) {
    const start = f * hop - hop;
    for (let i = 0; i < N; i++) { const j = start + i; inp[i] = j >= 0 && j < x.length ? x[j] * win[i] : 0; }
    const out = fft.createComplexArray() as number[];
    fft.realTransform(out, inp);
    fft.completeSpectrum(out);
    const s = Float64Array.from(out);
    let e = 0; for (let k = 0; k <= N / 2; k++) e += s[2 * k] ** 2 + s[2 * k + 1] ** 2;
    frameEnergy[f] = e; spectra.push(s);
  }
  const order = Array.from(frameEnergy.keys()).sort((a, b) => frameEnergy[a] - frameEnergy[b]);
  const quiet = order.slice(0, Math.max(1, Math.floor(q * nFrames)));
  const noise = new Float64Array(N / 2 + 1);
  for (const f of quiet) for (let k = 0; k <= N / 2; k++) noise[k] += (spectra[f][2 * k] ** 2 + spectra[f][2 * k + 1] ** 2) / quiet.length;
  const y = new Float32Array(x.length);
  const tmp = fft.createComplexArray() as number[];
  for (let f = 0; f < nFrames; f++) {
    const s = spectra[f];
    for (let k = 0; k < N; k++) {
      const kk = k <= N / 2 ? k : N - k;
      const p = s[2 * k] ** 2 + s[2 * k + 1] ** 2;
      const g = p > 0 ? Math.max(1 - alpha * noise[kk] / p, beta) : beta;
      s[2 * k] *= g; s[2 * k + 1] *= g;
    }
    fft.inverseTransform(tmp, s as unknown as number[]);
    const start = f * hop - hop;
    for (let i = 0; i < N; i++) { const j = start + i; if (j >= 0 && j < y.length) y[j] += tmp[2 * i] * win[i]; }
  }
  return y;
}
