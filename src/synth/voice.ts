/**
 * Voice parameters of one recording from the mood state u (per factor: within-person deviation
 * + ½·baseline) through the person's couplings c (docs/synth.md):
 *   F0 = F0_p · 2^((c_F0·u + ε)/12); jitter = jitter_p · exp(c·u + ε); shimmer = shimmer_p + c·u + ε;
 *   loudness, rate, intonation range: log-linear; HNR: linear.
 * Pure (browser-safe).
 */
import type { Rng } from '../util/random.js';
import { dot3, type Vec3 } from './model.js';
import type { PersonParams } from './params.js';
import { clip } from './calendar.js';

/** Voice parameters of one recording (the generative truth behind audio and features). */
export interface VoiceParams {
  f0Hz: number; jitter: number; shimmerDb: number; loudness: number;
  /** Speaking rate, syllables per second. */
  rate: number;
  /** F0 standard deviation over the utterance, semitones. */
  intonationSt: number;
  hnrDb: number;
}

export function voiceAt(p: PersonParams, u: Vec3, r: Rng): VoiceParams {
  const c = p.coupling, v = p.voice;
  return {
    f0Hz: v.f0Hz * Math.pow(2, (dot3(c.f0St, u) + r.normal(0, 0.35)) / 12),
    jitter: clip(v.jitter * Math.exp(dot3(c.logJitter, u) + r.normal(0, 0.1)), 0.002, 0.1),
    shimmerDb: clip(v.shimmerDb + dot3(c.shimmerDb, u) + r.normal(0, 0.08), 0.2, 2.5),
    loudness: v.loudness * Math.exp(dot3(c.logLoudness, u) + r.normal(0, 0.12)),
    rate: clip(v.rate * Math.exp(dot3(c.logRate, u) + r.normal(0, 0.05)), 2, 7),
    intonationSt: clip(v.intonationSt * Math.exp(dot3(c.logIntonation, u) + r.normal(0, 0.1)), 0.3, 6),
    hnrDb: v.hnrDb + dot3(c.hnrDb, u) + r.normal(0, 0.5),
  };
}
