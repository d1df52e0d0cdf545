/**
 * Per-person parameters of the synthetic study: time zone, demographics, mood baselines,
 * person-specific couplings, response style, sleep habit, activity level, voice, compliance and
 * missingness rates. Drawn from the person's own Rng stream only, so a person's parameters do not
 * depend on the study length or on the other participants. Pure (browser-safe).
 */
import { Rng } from '../util/random.js';
import { DAMS_ITEMS } from '../data/study.js';
import { ACTIVITY, COUPLING, ENROLMENT_SPREAD_DAYS, LATENT, TIME_ZONES, correlate, type CouplingName, type Vec3 } from './model.js';

export interface PersonParams {
  index: number;
  id: string;
  timezone: string;
  sex: 'f' | 'm';
  age: number;
  /** Day of enrolment, counted from STUDY_START (0 … ENROLMENT_SPREAD_DAYS−1). */
  enrolmentDay: number;
  /** Mood baseline per factor (dep, pos, anx). */
  baseline: Vec3;
  /** AR(1) coefficient of the daily mood process. */
  dayPhi: number;
  /** Person couplings (shared + deviation) per factor. */
  coupling: Record<CouplingName, Vec3>;
  /** True when this person's activity coupling is reversed (sign flipped). */
  activityReverser: boolean;
  /** Items: response style. */
  style: { scale: number; offset: number; itemOffset: number[]; noiseSd: number };
  /** Sleep habit: local bedtime in hours (may exceed 24), sleep duration (h), weekend delay (h), night-to-night SD (h). */
  sleep: { bedHour: number; duration: number; weekendDelay: number; sd: number };
  /** Activity: overall level (multiplies ZCM), circadian peak hour and amplitude, PIM per ZCM unit. */
  activity: { level: number; peakHour: number; amplitude: number; pimGain: number };
  /** Voice at the person's neutral state. */
  voice: {
    f0Hz: number; jitter: number; shimmerDb: number; loudness: number; rate: number;
    intonationSt: number; hnrDb: number; formantScale: number;
    /** Person timbre constants (MFCC 1–4, alpha ratio, Hammarberg index, F1). */
    mfcc: [number, number, number, number]; alphaRatio: number; hammarberg: number; f1Hz: number;
  };
  /** Probabilities of answering: scheduled prompts (at day 0), wake, bed; voluntary reports per day. */
  compliance: { scheduled: number; wake: number; bed: number; voluntary: number; declinePerDay: number };
  /**
   * Missingness: unanswered item, failed recording, corrupt recording, daytime charging gaps/day,
   * off-wrist nights, and dropout (null, or the fraction of the study after which the person stops).
   */
  missing: { item: number; speechFail: number; speechCorrupt: number; dayGaps: number; offWristNight: number; dropoutAt: number | null };
}

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function pickZone(r: Rng): string {
  let u = r.next();
  for (const [z, w] of TIME_ZONES) { if (u < w) return z; u -= w; }
  return TIME_ZONES[0][0];
}

export function participantId(index: number): string {
  return 'P' + String(index + 1).padStart(3, '0');
}

export function drawPersonParams(index: number, r: Rng): PersonParams {
  const sex: 'f' | 'm' = r.bernoulli(0.5) ? 'f' : 'm';
  const n3 = (): Vec3 => [r.normal(), r.normal(), r.normal()];
  const baseline = correlate(n3()).map((x) => x * LATENT.baselineSd) as Vec3;
  const coupling = {} as Record<CouplingName, Vec3>;
  for (const name of Object.keys(COUPLING) as CouplingName[]) {
    const c = COUPLING[name];
    coupling[name] = c.shared.map((s, f) => s + r.normal(0, c.personSd[f])) as Vec3;
  }
  const reverser = r.bernoulli(ACTIVITY.reverserShare);
  if (reverser) coupling.activity = coupling.activity.map((b) => -b) as Vec3;
  const female = sex === 'f';
  return {
    index, id: participantId(index), timezone: pickZone(r), sex,
    age: Math.round(clip(r.normal(38, 10), 21, 65)),
    enrolmentDay: r.int(ENROLMENT_SPREAD_DAYS),
    baseline,
    dayPhi: r.uniform(0.3, 0.7),
    coupling, activityReverser: reverser,
    style: {
      scale: Math.exp(r.normal(0, 0.25)),
      offset: r.normal(0, 3),
      itemOffset: DAMS_ITEMS.map(() => r.normal(0, 5)),
      noiseSd: r.uniform(6, 11),
    },
    sleep: {
      bedHour: clip(r.normal(23.2, 0.6), 21.5, 25), duration: clip(r.normal(7.3, 0.5), 6, 9),
      weekendDelay: r.uniform(0.2, 1.3), sd: r.uniform(0.25, 0.65),
    },
    activity: {
      level: Math.exp(r.normal(0, 0.35)), peakHour: r.uniform(12.5, 17.5),
      amplitude: r.uniform(0.2, 0.5), pimGain: Math.exp(r.normal(Math.log(6), 0.25)),
    },
    voice: {
      f0Hz: female ? r.normal(205, 20) : r.normal(118, 14),
      jitter: Math.exp(r.normal(Math.log(0.018), 0.25)),
      shimmerDb: clip(r.normal(1.0, 0.15), 0.5, 1.6),
      loudness: Math.exp(r.normal(Math.log(0.9), 0.25)),
      rate: clip(r.normal(4.2, 0.4), 3.0, 5.5),
      intonationSt: clip(r.normal(2.2, 0.4), 1, 3.5),
      hnrDb: r.normal(female ? 9 : 7.5, 1.5),
      formantScale: (female ? 1.15 : 1.0) * r.normal(1, 0.04),
      mfcc: [r.normal(female ? 22 : 26, 3), r.normal(8, 3), r.normal(6, 3), r.normal(2, 3)],
      alphaRatio: r.normal(-14, 2.5), hammarberg: r.normal(18, 3), f1Hz: r.normal(female ? 600 : 530, 30),
    },
    compliance: {
      scheduled: clip(r.normal(0.87, 0.09), 0.45, 0.99),
      wake: clip(r.normal(0.72, 0.18), 0.1, 0.97),
      bed: clip(r.normal(0.68, 0.2), 0.1, 0.97),
      voluntary: clip(r.normal(0.05, 0.05), 0, 0.3),
      declinePerDay: r.uniform(0, 0.015),
    },
    missing: {
      item: clip(0.005 * Math.exp(r.normal(0, 0.7)), 0, 0.05),
      speechFail: clip(r.normal(0.06, 0.04), 0.005, 0.25),
      speechCorrupt: clip(r.normal(0.015, 0.01), 0, 0.05),
      dayGaps: r.uniform(0.05, 0.6),
      offWristNight: r.bernoulli(0.3) ? r.uniform(0.03, 0.15) : 0,
      dropoutAt: r.bernoulli(0.05) ? r.uniform(0.35, 0.85) : null,
    },
  };
}
