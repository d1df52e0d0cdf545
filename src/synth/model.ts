/**
 * The generative model of the synthetic study, as constants: latent mood factors, their
 * correlation, how items load on them, and the SHARED parts of the couplings between mood,
 * activity and voice (each person's coupling = shared + a person-specific deviation of
 * comparable size, drawn in params.ts). Documented in docs/synth.md. Pure (browser-safe).
 */
import { DAMS_ITEMS } from '../data/study.js';

/** Latent mood factors: depressive mood, positive affect, anxiety. */
export const FACTORS = ['dep', 'pos', 'anx'] as const;
export type Vec3 = [number, number, number];

/** Correlation of the factors (between persons, across days and within days alike). */
export const FACTOR_CORRELATION: [Vec3, Vec3, Vec3] = [
  [1.0, -0.6, 0.45],
  [-0.6, 1.0, -0.3],
  [0.45, -0.3, 1.0],
];

/** Lower Cholesky factor L with L·Lᵀ = FACTOR_CORRELATION (so L·ε has that correlation). */
export const FACTOR_CHOLESKY: [Vec3, Vec3, Vec3] = cholesky3(FACTOR_CORRELATION);

function cholesky3(a: [Vec3, Vec3, Vec3]): [Vec3, Vec3, Vec3] {
  const l: [Vec3, Vec3, Vec3] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let i = 0; i < 3; i++) for (let j = 0; j <= i; j++) {
    let s = a[i][j];
    for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
    l[i][j] = i === j ? Math.sqrt(s) : s / l[j][j];
  }
  return l;
}

/** L·ε for a standard-normal ε: a correlated factor vector. */
export function correlate(e: Vec3): Vec3 {
  const L = FACTOR_CHOLESKY;
  return [L[0][0] * e[0], L[1][0] * e[0] + L[1][1] * e[1], L[2][0] * e[0] + L[2][1] * e[1] + L[2][2] * e[2]];
}

export const dot3 = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Latent scale: SD between persons (baseline), of the day-to-day AR(1) and of the within-day process. */
export const LATENT = {
  baselineSd: 0.7,
  daySd: 0.6,
  /** Within-day Ornstein–Uhlenbeck deviation: stationary SD and time constant (hours). */
  withinSd: 0.5,
  withinTauHours: 3,
  /** Shared effect of one hour of sleep below the person's habit on the next day's state. */
  sleepDeficitEffect: [0.22, -0.2, 0.1] as Vec3,
  /** Weekend shift. */
  weekendEffect: [-0.1, 0.2, -0.25] as Vec3,
};

/**
 * Item model: item = centre + 14 · scale_p · (loading · z) + offset_p + itemOffset_p,k + noise,
 * clipped to 0–100 and rounded. Loadings give the designed clusters: gloomy/depressed/unpleasant
 * on dep, happy/cheerful/vigorous on pos, anxious/worried/concerned on anx.
 */
export const ITEM_MODEL: Record<(typeof DAMS_ITEMS)[number], { centre: number; loading: Vec3 }> = {
  vigorous: { centre: 46, loading: [-0.2, 0.8, 0] },
  gloomy: { centre: 22, loading: [0.9, 0, 0] },
  concerned: { centre: 28, loading: [0.2, 0, 0.8] },
  happy: { centre: 58, loading: [0, 0.9, 0] },
  unpleasant: { centre: 22, loading: [0.7, 0, 0.3] },
  anxious: { centre: 25, loading: [0, 0, 0.9] },
  cheerful: { centre: 56, loading: [0, 0.85, 0] },
  depressed: { centre: 18, loading: [0.95, 0, 0] },
  worried: { centre: 26, loading: [0.1, 0, 0.85] },
};
export const ITEM_POINTS_PER_UNIT = 14;

/**
 * Couplings of a mood state u (per factor: within-person deviation + ½·baseline) to activity and
 * voice. Person coupling = shared + N(0, personSd[factor]) per factor, so people differ in strength
 * (and a few in sign). Generator 2: the modalities are complementary by design — activity carries
 * positive affect / energy and (less) depressive mood (psychomotor slowing), the voice anxiety and
 * depressive mood but almost nothing of positive affect (no shared weight, small person SD).
 * Activity: log of the awake activity intensity (and of the odds of leaving sedentary bouts).
 * Voice: F0 in semitones, log jitter, shimmer in dB, log loudness, log speaking rate,
 * log intonation range, HNR in dB.
 */
export const COUPLING = {
  activity: { shared: [-0.5, 1.0, 0.0] as Vec3, personSd: [0.25, 0.25, 0.25] as Vec3 },
  f0St: { shared: [-0.1, 0.0, 0.7] as Vec3, personSd: [0.25, 0.1, 0.35] as Vec3 },
  logJitter: { shared: [0.06, 0.0, 0.1] as Vec3, personSd: [0.04, 0.02, 0.05] as Vec3 },
  shimmerDb: { shared: [0.05, 0.0, 0.05] as Vec3, personSd: [0.03, 0.015, 0.04] as Vec3 },
  logLoudness: { shared: [-0.075, 0.0, 0.03] as Vec3, personSd: [0.05, 0.02, 0.06] as Vec3 },
  logRate: { shared: [-0.035, 0.0, 0.03] as Vec3, personSd: [0.02, 0.01, 0.025] as Vec3 },
  logIntonation: { shared: [-0.075, 0.0, 0.0] as Vec3, personSd: [0.04, 0.02, 0.05] as Vec3 },
  hnrDb: { shared: [-0.3, 0.0, -0.2] as Vec3, personSd: [0.2, 0.05, 0.25] as Vec3 },
} as const;
export type CouplingName = keyof typeof COUPLING;

/** Activity: ZCM mean per minute by bout state (sedentary, light, moderate–vigorous) at level 1. */
export const ACTIVITY = {
  stateZcm: [22, 110, 300],
  /** Per-minute probability of staying in a state. */
  stay: [0.93, 0.85, 0.9],
  /** From sedentary: base per-minute odds to light / to moderate–vigorous (scaled by circadian × coupling). */
  leaveSedentary: [0.055, 0.01],
  /** Lognormal minute-to-minute noise of ZCM (SD of the log). */
  noiseSd: 0.55,
  /** Probability per asleep minute of a small movement. */
  sleepMovement: 0.1,
  /** Share of people whose activity coupling is reversed (e.g. restless when low, exercising when anxious). */
  reverserShare: 0.05,
};

/** Study calendar: participants enrol over two weeks from this local date (DST ends in the EU on 30 Oct, in the US on 6 Nov). */
export const STUDY_START = { year: 2022, month: 10, day: 17 };
export const ENROLMENT_SPREAD_DAYS = 14;

/** Time zones of the cohort with weights (the paper's cohort was in Japan); Berlin, London and New York change offset in the study period. */
export const TIME_ZONES: Array<[string, number]> = [
  ['Asia/Tokyo', 0.35], ['Europe/Berlin', 0.25], ['America/New_York', 0.2], ['Europe/London', 0.1], ['Asia/Kolkata', 0.1],
];
