/**
 * Speech as audio (speech.kind = "audio"): a short synthetic voiced utterance per report, made by
 * a source–filter model so that pitch, jitter, shimmer, loudness, breathiness and speaking rate
 * are the generative voice parameters of that report:
 *
 *   source  — a train of Rosenberg glottal pulses, period 1/F0(t) with F0(t) = F0·2^(c(t)/12)
 *             (c(t): intonation contour with SD ≈ intonationSt plus declination); each period is
 *             perturbed by N(0, jitter/1.128) relative (so the local jitter, the mean absolute
 *             difference of consecutive periods over the mean period, is ≈ jitter) and each pulse
 *             amplitude by N(0, shimmer/1.128) dB (so local shimmer in dB ≈ shimmerDb);
 *             differentiated (lip radiation); aspiration noise at −HNR dB.
 *   filter  — a cascade of 4 formant resonators (Klatt form) moving between vowel targets, one
 *             vowel per syllable, scaled by the person's vocal-tract factor.
 *   timing  — 11 syllables at `rate` syllables/s (each ±25 %), consonant noise onsets, a phrase
 *             break, raised-cosine syllable envelopes; RMS of the voiced part = 0.06·loudness.
 *
 * 16 kHz mono, about 2–3.5 s with silences. Pure (browser-safe).
 */
import { Rng } from '../util/random.js';
import type { PersonParams } from './params.js';
import type { SpeechStatus } from './participant.js';
import type { VoiceParams } from './voice.js';

export const SPEECH_SAMPLE_RATE = 16_000;
const SYLLABLES = 11;

/** Formant targets (Hz) F1–F4 of five vowels for an adult male vocal tract. */
const VOWELS: Array<[number, number, number, number]> = [
  [730, 1090, 2440, 3400], // a
  [270, 2290, 3010, 3500], // i
  [300, 870, 2240, 3400],  // u
  [530, 1840, 2480, 3500], // e
  [570, 840, 2410, 3400],  // o
];
const BANDWIDTHS = [80, 100, 140, 180];

export function synthesizeUtterance(v: VoiceParams, p: PersonParams, r: Rng, sr = SPEECH_SAMPLE_RATE): Float32Array {
  // --- Timing: syllable boundaries in seconds.
  const lead = r.uniform(0.15, 0.3), trail = r.uniform(0.15, 0.25);
  const syl: Array<{ start: number; dur: number; vowel: number }> = [];
  let t = lead;
  for (let i = 0; i < SYLLABLES; i++) {
    const dur = (1 / v.rate) * r.uniform(0.75, 1.25);
    syl.push({ start: t, dur, vowel: r.int(VOWELS.length) });
    t += dur + (i === 5 ? r.uniform(0.08, 0.16) : 0); // phrase break
  }
  const speechEnd = t;
  const n = Math.ceil((speechEnd + trail) * sr);

  // --- Envelopes: voiced amplitude (vowel nucleus) and consonant noise amplitude per sample.
  const voicedAmp = new Float32Array(n), noiseAmp = new Float32Array(n);
  const formantTarget = new Int8Array(n).fill(-1);
  for (const s of syl) {
    const c0 = Math.floor(s.start * sr), v0 = Math.floor((s.start + 0.2 * s.dur) * sr), v1 = Math.floor((s.start + 0.9 * s.dur) * sr);
    for (let k = c0; k < v0 && k < n; k++) noiseAmp[k] = Math.sin(Math.PI * (k - c0) / Math.max(1, v0 - c0));
    for (let k = v0; k < v1 && k < n; k++) {
      const x = (k - v0) / Math.max(1, v1 - v0);
      voicedAmp[k] = x < 0.25 ? Math.sin(Math.PI * x / 0.5) : x > 0.7 ? Math.cos(Math.PI * (x - 0.7) / 0.6) : 1;
    }
    for (let k = c0; k < Math.min(n, Math.floor((s.start + s.dur) * sr)); k++) formantTarget[k] = s.vowel;
  }

  // --- Glottal source: jittered, shimmered Rosenberg pulses along the intonation contour.
  const decl = 1.5; // declination over the utterance, semitones
  const rampSd = decl / Math.sqrt(12);
  const contourAmp = Math.SQRT2 * Math.sqrt(Math.max(0.01, v.intonationSt ** 2 - rampSd ** 2));
  const fInt = r.uniform(0.4, 0.8), phase = r.uniform(0, 2 * Math.PI);
  const jitterSd = v.jitter / 1.128, shimmerSd = v.shimmerDb / 1.128;
  const src = new Float32Array(n);
  let pos = lead * sr;
  while (pos < n) {
    const ts = pos / sr;
    const c = contourAmp * Math.sin(2 * Math.PI * fInt * ts + phase) - decl * (ts / speechEnd - 0.5);
    const period = (sr / (v.f0Hz * Math.pow(2, c / 12))) * (1 + jitterSd * r.normal());
    const k0 = Math.floor(pos);
    const amp = voicedAmp[k0] * Math.pow(10, (shimmerSd * r.normal()) / 20);
    if (amp > 0) {
      const tp = 0.45 * period, tn = 0.15 * period;
      for (let k = 0; k < tp + tn && k0 + k < n; k++) {
        const g = k < tp ? 0.5 * (1 - Math.cos(Math.PI * k / tp)) : Math.cos(Math.PI * (k - tp) / (2 * tn));
        src[k0 + k] += amp * g;
      }
    }
    pos += Math.max(8, period);
  }
  // Lip radiation: first difference.
  for (let k = n - 1; k > 0; k--) src[k] -= src[k - 1];
  src[0] = 0;
  let hp = 0, hc = 0;
  for (let k = 0; k < n; k++) if (voicedAmp[k] > 0.5) { hp += src[k] * src[k]; hc++; }
  const harmRms = Math.sqrt(hp / Math.max(1, hc)) || 1e-3;
  const aspiration = harmRms * Math.pow(10, -v.hnrDb / 20);
  // White noise with unit variance from one uniform draw (√12·(u − ½)): cheap, and the formant filter makes it Gaussian-like.
  const SQRT12 = Math.sqrt(12);
  for (let k = 0; k < n; k++) {
    const amp = voicedAmp[k] * aspiration + noiseAmp[k] * 0.35 * harmRms;
    if (amp > 0) src[k] += amp * SQRT12 * (r.next() - 0.5);
  }

  // --- Formant filter: 4 cascaded resonators, coefficients updated every 32 samples.
  const out = new Float32Array(n);
  const y1 = [0, 0, 0, 0], y2 = [0, 0, 0, 0];
  const cur = [...VOWELS[syl[0].vowel]];
  const A = [0, 0, 0, 0], B = [0, 0, 0, 0], C = [0, 0, 0, 0];
  for (let k = 0; k < n; k++) {
    if (k % 32 === 0) {
      const target = VOWELS[formantTarget[k] >= 0 ? formantTarget[k] : syl[0].vowel];
      for (let f = 0; f < 4; f++) {
        cur[f] += 0.25 * (target[f] - cur[f]); // ≈ 8 ms smoothing of formant transitions
        const freq = Math.min(cur[f] * p.voice.formantScale, 0.45 * sr);
        const rr = Math.exp(-Math.PI * BANDWIDTHS[f] / sr);
        B[f] = 2 * rr * Math.cos(2 * Math.PI * freq / sr); C[f] = -rr * rr; A[f] = 1 - B[f] - C[f];
      }
    }
    let x = src[k];
    for (let f = 0; f < 4; f++) {
      const y = A[f] * x + B[f] * y1[f] + C[f] * y2[f];
      y2[f] = y1[f]; y1[f] = y; x = y;
    }
    out[k] = x;
  }

  // --- Level: RMS of the voiced part = 0.06 · loudness; room noise; clip.
  let e = 0, m = 0;
  for (let k = 0; k < n; k++) if (voicedAmp[k] > 0.5) { e += out[k] * out[k]; m++; }
  const gain = (0.06 * v.loudness) / (Math.sqrt(e / Math.max(1, m)) || 1);
  for (let k = 0; k < n; k++) out[k] = Math.max(-0.99, Math.min(0.99, out[k] * gain + 0.0015 * SQRT12 * (r.next() - 0.5)));
  return out;
}

/** A failed recording of the given kind: digital silence, cut after 80 ms, handling noise only, or no samples. */
export function corruptRecording(kind: SpeechStatus, v: VoiceParams, p: PersonParams, r: Rng, sr = SPEECH_SAMPLE_RATE): Float32Array {
  const n = Math.round(r.uniform(2, 3) * sr);
  switch (kind) {
    case 'silent': return new Float32Array(n);
    case 'truncated': return synthesizeUtterance(v, p, r, sr).slice(0, Math.round(0.08 * sr));
    case 'noise': {
      // Rubbing / wind: low-passed noise, no voice.
      const out = new Float32Array(n);
      let s = 0;
      for (let k = 0; k < n; k++) { s = 0.97 * s + 0.03 * r.normal(); out[k] = Math.max(-0.99, Math.min(0.99, 0.6 * s)); }
      return out;
    }
    case 'empty': return new Float32Array(0);
    default: throw new Error(`not a corrupt recording kind: ${kind}`);
  }
}
