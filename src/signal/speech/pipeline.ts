/**
 * The speech preprocessing chain of MM (SPEC §1) and the feature extraction after it:
 *   decode + cleanse → resample to 16 kHz mono → (denoise) → (VAD: cut leading/trailing silence) → eGeMAPS.
 * Parity mode is the default: no denoising, no VAD (both options), so the features are openSMILE eGeMAPSv02's.
 * Browser-safe: bytes in, features out.
 */
import { decodeWavChecked, cleanseSamples, type CleanseOptions, type RejectReason } from './cleanse.js';
import { resample } from './resample.js';
import { spectralSubtraction } from './denoise.js';
import { trimSilence } from './vad.js';
import { extractEgemaps, type EgemapsResult } from './egemaps.js';

export const TARGET_RATE = 16000;

export interface PipelineOptions extends CleanseOptions {
  /** Spectral-subtraction denoising (default false: eGeMAPS is defined on the raw signal). */
  denoise?: boolean;
  /**
   * Cut leading/trailing silence with the energy VAD (default false: parity mode, the features are
   * openSMILE's on the whole recording; the VAD changes every segment-based functional).
   */
  vad?: boolean;
  /** Resample to 16 kHz first (default true). */
  resample?: boolean;
}

export type SpeechFeatures =
  | { ok: true; features: EgemapsResult; seconds: number; speechSeconds: number; warnings: string[] }
  | { ok: false; reason: RejectReason | 'no-speech'; message: string };

/** Preprocess float samples (any rate) into 16 kHz mono speech, or say why not. */
export function preprocess(samples: Float32Array, sampleRate: number, opts: PipelineOptions = {}):
  { ok: true; samples: Float32Array; sampleRate: number; warnings: string[] } | { ok: false; reason: RejectReason | 'no-speech'; message: string } {
  const c = cleanseSamples(samples, sampleRate, opts);
  if (!c.ok) return c;
  let x = samples; let fs = sampleRate;
  if (opts.resample !== false && fs !== TARGET_RATE) { x = resample(x, fs, TARGET_RATE); fs = TARGET_RATE; }
  if (opts.denoise) x = spectralSubtraction(x, fs);
  if (opts.vad === true) {
    const t = trimSilence(x, fs);
    if (!t.speechFound) return { ok: false, reason: 'no-speech', message: 'voice activity detection found no speech' };
    x = t.samples;
  }
  return { ok: true, samples: x, sampleRate: fs, warnings: c.warnings };
}

/** WAV bytes → eGeMAPS features (or the reason the recording was rejected). */
export function speechFeaturesFromWav(bytes: Uint8Array, opts: PipelineOptions = {}): SpeechFeatures {
  const d = decodeWavChecked(bytes); // cleansed once, in preprocess
  if (!d.ok) return d;
  return speechFeaturesFromSamples(d.value.mono, d.value.sampleRate, opts);
}

export function speechFeaturesFromSamples(samples: Float32Array, sampleRate: number, opts: PipelineOptions = {}): SpeechFeatures {
  const p = preprocess(samples, sampleRate, opts);
  if (!p.ok) return p;
  const features = extractEgemaps(p.samples, p.sampleRate);
  return { ok: true, features, seconds: samples.length / sampleRate, speechSeconds: p.samples.length / p.sampleRate, warnings: p.warnings };
}
