/**
 * A small synthetic study with a planted two-modality, two-task signal, for checking that the
 * sequence classifiers find what each of their parts is meant to find. Browser-safe, seeded.
 *
 * Per instance two independent latents a, b ~ N(0,1); per participant an offset u ~ N(0, σ_u).
 *   depressed (main, binary)  = 1[a + b + u + ε > 0],  ε ~ N(0, σ_ε)
 *   emotion (secondary, 3 classes) = negative / anxious / positive by the same score cut at ±θ
 *   (so the secondary task is informative about the main one, as the papers argue).
 * Modality "activity" (T_A steps, 3 features: value, sin and cos of the step's phase) carries a
 * over a 3-step bump at a random step p; modality "speech" (T_B steps, same 3 features) carries
 * b over a bump at the SAME step p and, with `decoy`, an identical-looking bump carrying an
 * unrelated value at another step — only the timing given by the activity tells them apart
 * (a cross-modal cue for the inter-modal attention). Lengths vary per instance (masking).
 * With `mainLabelRate` < 1 only that fraction of training instances has the main label (all have
 * the secondary one), the setting where sharing between tasks matters.
 * Each modality alone can reach about 75 % accuracy on the main task; both together ≈ 95 %.
 */
import { Rng } from '../util/random.js';
import { chronologicalSplit } from '../data/split.js';
import type { SeqData, SeqModality, SeqTask } from './data.js';

export interface PlantedOptions {
  participants: number;
  perParticipant: number;
  stepsA: number;
  stepsB: number;
  /** Bump height per unit of latent, relative to unit noise. */
  amplitude: number;
  /** Per-step noise SD. */
  noise: number;
  /** SD of the label noise ε and of the participant offset u. */
  labelNoise: number;
  participantSd: number;
  /** A decoy bump in the speech sequence (see above). */
  decoy: boolean;
  /**
   * additive: the label depends on a + b (each modality carries half of it);
   * pointer: the label depends on b only and the activity bump (height `amplitude`, no latent)
   * only says WHEN the speech event that matters happens (implies a decoy) — a purely cross-modal
   * cue that concatenated pooled vectors cannot resolve but attention from one modality's vector
   * over the other's states can;
   * interaction: the score is the product s = a·b (activity carries a, speech carries b as in
   * additive), main = 1[s + u + ε > 0] and the secondary emotion classes cut s at ±θ — the main
   * label is the sign of an interaction that the secondary task, labelled on every report, also
   * has to extract (the AMM paper's argument for inter-task attention: tasks share information).
   */
  cue: 'additive' | 'pointer' | 'interaction';
  /** Bump height of the speech latent b (default: `amplitude`); lower = a weaker second modality. */
  amplitudeB?: number;
  /** Per-step noise SD of the speech sequence (default: `noise`). */
  noiseB?: number;
  /** Fraction of training instances with the main label. */
  mainLabelRate: number;
  /** Fraction of training instances with the secondary label (default 1). */
  secondaryLabelRate?: number;
  /** Cut θ of the emotion classes. */
  emotionCut: number;
  seed: number;
}

export const PLANTED_DEFAULTS: PlantedOptions = {
  participants: 24, perParticipant: 40, stepsA: 12, stepsB: 16,
  amplitude: 1.5, noise: 0.5, labelNoise: 0.25, participantSd: 0.2,
  decoy: false, cue: 'additive', mainLabelRate: 1, emotionCut: 0.6, seed: 1,
};

const FEATURES = ['value', 'phase_sin', 'phase_cos'];

export function plantedStudy(options: Partial<PlantedOptions> = {}): SeqData {
  const o = { ...PLANTED_DEFAULTS, ...options };
  const rng = new Rng(o.seed);
  const P = o.participants, n = P * o.perParticipant;
  const F = FEATURES.length;
  const TA = o.stepsA, TB = Math.max(o.stepsB, o.stepsA);
  const xa = new Float32Array(n * TA * F), xb = new Float32Array(n * TB * F);
  const la = new Int32Array(n), lb = new Int32Array(n);
  const dep = new Int32Array(n), emo = new Int32Array(n);
  const participant = new Int32Array(n);
  const time = new Float64Array(n);
  const reportIds: string[] = [];
  const ampB = o.amplitudeB ?? o.amplitude, noiseB = o.noiseB ?? o.noise;
  const period = TB; // phase features let a model locate a step in either sequence
  const put = (x: Float32Array, T: number, i: number, t: number, v: number) => { x[(i * T + t) * F] += v; };
  for (let p = 0; p < P; p++) {
    const u = rng.normal(0, o.participantSd);
    for (let j = 0; j < o.perParticipant; j++) {
      const i = p * o.perParticipant + j;
      participant[i] = p; time[i] = j; reportIds.push(`p${p}-r${j}`);
      const pointer = o.cue === 'pointer';
      const a = pointer ? 1 : rng.normal(), b = rng.normal();
      const latent = pointer ? 1.4 * b : o.cue === 'interaction' ? a * b : a + b;
      const score = latent + u + rng.normal(0, o.labelNoise);
      dep[i] = score > 0 ? 1 : 0;
      emo[i] = score > o.emotionCut ? 0 : score < -o.emotionCut ? 2 : 1; // negative / anxious / positive
      la[i] = TA - rng.int(Math.max(1, Math.floor(TA / 4)));
      lb[i] = TB - rng.int(Math.max(1, Math.floor(TB / 4)));
      for (const [x, T, L, sd] of [[xa, TA, la[i], o.noise], [xb, TB, lb[i], noiseB]] as const) {
        for (let t = 0; t < L; t++) {
          const k = (i * T + t) * F;
          x[k] = rng.normal(0, sd);
          x[k + 1] = Math.sin((2 * Math.PI * t) / period);
          x[k + 2] = Math.cos((2 * Math.PI * t) / period);
        }
      }
      // The bump: 3 steps centred at step c, both modalities at the same step.
      const c = 1 + rng.int(Math.min(la[i], lb[i]) - 2);
      for (let dt = -1; dt <= 1; dt++) {
        const w = dt === 0 ? 1 : 0.5;
        put(xa, TA, i, c + dt, w * o.amplitude * a);
        put(xb, TB, i, c + dt, w * ampB * b);
      }
      if (o.decoy || o.cue === 'pointer') {
        let c2 = c;
        while (Math.abs(c2 - c) < 3) c2 = 1 + rng.int(lb[i] - 2);
        const d = rng.normal();
        for (let dt = -1; dt <= 1; dt++) put(xb, TB, i, c2 + dt, (dt === 0 ? 1 : 0.5) * ampB * d);
      }
    }
  }
  const participantIds = Array.from({ length: P }, (_, p) => `p${p}`);
  const split = chronologicalSplit({ n, participant, time, reportIds });
  if (o.mainLabelRate < 1) for (const r of split.train) if (!rng.bernoulli(o.mainLabelRate)) dep[r] = -1;
  const rate2 = o.secondaryLabelRate ?? 1;
  if (rate2 < 1) for (const r of split.train) if (!rng.bernoulli(rate2)) emo[r] = -1;
  const modalities: SeqModality[] = [
    { name: 'activity', steps: TA, features: F, featureNames: FEATURES, x: xa, length: la },
    { name: 'speech', steps: TB, features: F, featureNames: FEATURES, x: xb, length: lb },
  ];
  const tasks: SeqTask[] = [
    { name: 'depressed', classes: ['no', 'yes'], y: dep },
    { name: 'emotion', classes: ['negative', 'anxious', 'positive'], y: emo },
  ];
  return {
    n, participantIds, participant, modalities, tasks, split,
    notes: [`planted study: ${P} participants × ${o.perParticipant} reports, cue ${o.cue}, decoy ${o.decoy || o.cue === 'pointer'}, main-label rate ${o.mainLabelRate}` +
      `${rate2 < 1 ? `, secondary-label rate ${rate2}` : ''}${o.amplitudeB !== undefined || o.noiseB !== undefined ? `, speech amplitude ${ampB} / noise ${noiseB} (activity ${o.amplitude} / ${o.noise})` : ''}`],
  };
}
