/**
 * Speech as features (speech.kind = "features"): eGeMAPS-named functionals (openSMILE's exact
 * column names) computed from the generative voice parameters of a recording plus measurement
 * noise, as an acoustic front end would report them. Pure (browser-safe).
 */
import { Rng } from '../util/random.js';
import type { PersonParams } from './params.js';
import type { VoiceParams } from './voice.js';

export const SPEECH_FEATURES = [
  'F0semitoneFrom27.5Hz_sma3nz_amean',
  'F0semitoneFrom27.5Hz_sma3nz_stddevNorm',
  'F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2',
  'jitterLocal_sma3nz_amean',
  'shimmerLocaldB_sma3nz_amean',
  'HNRdBACF_sma3nz_amean',
  'loudness_sma3_amean',
  'loudness_sma3_stddevNorm',
  'loudnessPeaksPerSec',
  'VoicedSegmentsPerSec',
  'MeanVoicedSegmentLengthSec',
  'MeanUnvoicedSegmentLength',
  'mfcc1_sma3_amean',
  'mfcc2_sma3_amean',
  'mfcc3_sma3_amean',
  'mfcc4_sma3_amean',
  'spectralFlux_sma3_amean',
  'alphaRatioV_sma3nz_amean',
  'hammarbergIndexV_sma3nz_amean',
  'F1frequency_sma3nz_amean',
  'equivalentSoundLevel_dBp',
] as const;

/** Round to 6 significant digits (keeps the CSV small; measurement noise is far larger). */
const sig = (x: number) => Number(x.toPrecision(6));

/** The feature vector (SPEECH_FEATURES order) of one recording with voice `v` by person `p`. */
export function speechFeatures(v: VoiceParams, p: PersonParams, r: Rng): number[] {
  const st = 12 * Math.log2(v.f0Hz / 27.5) + r.normal(0, 0.3);          // semitones re 27.5 Hz
  const logLoud = Math.log(v.loudness);
  const out = [
    st,
    Math.max(0.005, v.intonationSt / st + r.normal(0, 0.008)),           // SD / mean of the F0 contour
    Math.max(0.2, 1.7 * v.intonationSt + r.normal(0, 0.5)),              // 20th–80th percentile range ≈ 1.7 SD
    v.jitter * Math.exp(r.normal(0, 0.15)),
    Math.max(0.1, v.shimmerDb + r.normal(0, 0.1)),
    v.hnrDb + r.normal(0, 0.6),
    v.loudness * Math.exp(r.normal(0, 0.08)),
    Math.max(0.2, 0.55 + 0.04 * (v.rate - 4.2) + r.normal(0, 0.05)),
    Math.max(0.5, 0.95 * v.rate + r.normal(0, 0.3)),
    Math.max(0.3, 0.62 * v.rate + r.normal(0, 0.2)),
    Math.max(0.05, 0.85 / v.rate + r.normal(0, 0.02)),
    Math.max(0.02, 0.06 + 0.25 / v.rate + r.normal(0, 0.015)),
    p.voice.mfcc[0] + 4 * logLoud + r.normal(0, 1.5),
    p.voice.mfcc[1] - 0.3 * v.hnrDb + r.normal(0, 1.5),
    p.voice.mfcc[2] + r.normal(0, 1.5),
    p.voice.mfcc[3] + 0.4 * (st - 12 * Math.log2(p.voice.f0Hz / 27.5)) + r.normal(0, 1.5),
    Math.max(0.01, 0.3 * v.loudness * (v.rate / 4.2) * Math.exp(r.normal(0, 0.1))),
    p.voice.alphaRatio + 3 * logLoud + r.normal(0, 1),
    p.voice.hammarberg - 3 * logLoud + r.normal(0, 1),
    p.voice.f1Hz + r.normal(0, 20),
    20 * Math.log10(v.loudness) + 42 + r.normal(0, 1),
  ];
  return out.map(sig);
}
