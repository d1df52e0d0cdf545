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
   * has to extract (the AMM paper's argument for inter-task attention: tasks share information);
   * shared: one latent z behind both modalities (multi-view redundancy): activity's bump carries
   * z + ν_a and speech's z + ν_b, ν ~ N(0, `viewNoise`²) independent per modality, at independent
   * steps (so z is the only thing the two sequences of a report share); main = 1[z + u + ε > 0].
   * Each modality is a noisy view of the same cause and the two together average out the view
   * noise — the setting where modality-invariant representations (MIMML's MI term) can be learnt
   * without labels and where a fused model can lean on the easier view and leave the other
   * under-trained (what MIMML's unimodal auxiliary tasks counter);
   * imbalanced: modality imbalance — main = 1[w·a + b + u + ε > 0] (w = `activityWeight`, 0.7); activity carries a as a
   * sustained shift of ½·`amplitude`·a on every step (learnt in a few updates), speech carries b
   * as a bump of height s·b (`amplitudeB`) whose sign s = ±1 is shown only in an extra `sign`
   * channel held on every step (activity's `sign` channel is an unrelated ±1) — reading b needs the
   * product of two channels, which is slow to learn. Speech carries more of the label than
   * activity, but a fused model that fits the labels through the easy activity shift first leaves
   * speech's encoder with little gradient ("modality laziness", Du et al. 2023; Peng et al. 2022)
   * — what MIMML's unimodal auxiliary heads and its MI term are for;
   * redundant: the imbalanced encodings (activity: a sustained shift, easy; speech: a sign-flipped
   * bump, hard) of ONE latent z behind the label — a = z + ν_a, b = z + ν_b (ν ~ N(0, `viewNoise`²))
   * and main = 1[1.4·z + u + ε > 0]. Each modality alone is (nearly) sufficient, so a fused model
   * can fit every training label through the easy activity shift and never learn to read speech:
   * the laziness that matters when the wristband is missing at deployment (`missingActivity.eval`);
   * complementary: main = 1[z₁ + z₂ + u + ε > 0] with two latents; activity carries z₁ as the easy
   * sustained shift; speech carries BOTH — z₂ as a sustained shift of its own (easy) and z₁ as the
   * hard sign-flipped bump. Given activity, speech's z₁ adds nothing to the fused loss, so a fused
   * model's speech encoder need only learn z₂ (the part activity lacks) — and then, with the band
   * off, answers from z₂ alone. A unimodal auxiliary head must predict the label from speech alone,
   * so it makes the speech encoder learn z₁ as well; a cross-modal MI term I(r_a; r_s) makes it
   * encode what it shares with activity, which is z₁ (and no label is needed for that).
   */
  cue: 'additive' | 'pointer' | 'interaction' | 'shared' | 'imbalanced' | 'redundant' | 'complementary';
  /** Weight of activity's latent a in the imbalanced cue's score (default 0.7). */
  activityWeight?: number;
  /** SD of the per-modality view noise ν of the shared cue (default 0.7; redundant cue 0.3). */
  viewNoise?: number;
  /** View noise of activity alone, shared and redundant cues (default: `viewNoise`). */
  viewNoiseA?: number;
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
  /**
   * How the emotion classes cut the score: 'symmetric' (default) negative > θ, anxious in [−θ, θ],
   * positive < −θ — the anxious class straddles the main task's boundary at 0; 'refine': negative
   * > 0, anxious in (−θ, 0], positive ≤ −θ — every emotion class lies on one side of the main
   * boundary, so the secondary task is a refinement of the main one (main = "negative" up to
   * nothing), the case where a task that sees every label can teach one that sees few.
   */
  emotionClasses?: 'symmetric' | 'refine';
  /**
   * Reports whose speech recording is missing (length 0), as fractions of the training and of the
   * development + test reports — e.g. a model trained on complete reports, as the MM paper kept
   * only those, and then used where a fifth of the recordings fail (SPEC §6).
   */
  missingSpeech?: { train?: number; eval?: number };
  /** The same for the wristband: reports whose activity sequence is missing (band not worn). */
  missingActivity?: { train?: number; eval?: number };
  /**
   * Extra nuisance channels per step in each modality (default 0): each carries step noise and a
   * 3-step bump of random height N(0, `nuisanceAmplitude`²) at a random step, independent of the
   * labels and of the other modality — structure a model must learn to ignore, so that finding the
   * label's signal is itself hard.
   */
  nuisance?: number;
  nuisanceAmplitude?: number;
  seed: number;
}

export const PLANTED_DEFAULTS: PlantedOptions = {
  participants: 24, perParticipant: 40, stepsA: 12, stepsB: 16,
  amplitude: 1.5, noise: 0.5, labelNoise: 0.25, participantSd: 0.2,
  decoy: false, cue: 'additive', mainLabelRate: 1, emotionCut: 0.6, seed: 1,
};

const FEATURES = ['value', 'phase_sin', 'phase_cos'];

export function plantedStudy(options: Partial<PlantedOptions> = {}): SeqData {
  // An option given as undefined keeps its default (callers pass flags they may not have).
  const o = { ...PLANTED_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as PlantedOptions;
  const rng = new Rng(o.seed);
  const P = o.participants, n = P * o.perParticipant;
  const K = o.nuisance ?? 0, nuisAmp = o.nuisanceAmplitude ?? 2;
  const complementary = o.cue === 'complementary';
  const imbalanced = o.cue === 'imbalanced' || o.cue === 'redundant' || complementary;
  const base = [...FEATURES, ...(imbalanced ? ['sign'] : [])];
  const featureNames = [...base, ...Array.from({ length: K }, (_, k) => `nuisance_${k + 1}`)];
  const F = featureNames.length;
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
      let a = pointer ? 1 : rng.normal(), b = rng.normal();
      let latent = pointer ? 1.4 * b : o.cue === 'interaction' ? a * b : imbalanced ? (o.activityWeight ?? 0.7) * a + b : a + b;
      let z2 = 0;
      if (complementary) {
        // a (drawn above) is z₁, seen by both modalities; z₂ is drawn here and only speech carries it.
        z2 = rng.normal(); b = a; latent = a + z2;
      }
      if (o.cue === 'shared' || o.cue === 'redundant') {
        // a, b above become the two views' noise; z is drawn after them so the other cues' draws stay as they were.
        const z = rng.normal(), sv = o.viewNoise ?? (o.cue === 'shared' ? 0.7 : 0.3), sva = o.viewNoiseA ?? sv;
        a = z + sva * a; b = z + sv * b; latent = 1.4 * z;
      }
      const score = latent + u + rng.normal(0, o.labelNoise);
      dep[i] = score > 0 ? 1 : 0;
      emo[i] = o.emotionClasses === 'refine'
        ? (score > 0 ? 0 : score > -o.emotionCut ? 1 : 2)
        : score > o.emotionCut ? 0 : score < -o.emotionCut ? 2 : 1; // negative / anxious / positive
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
      // The bump: 3 steps centred at step c, both modalities at the same step (shared cue: each its own step).
      const c = 1 + rng.int(Math.min(la[i], lb[i]) - 2);
      const cb = o.cue === 'shared' ? 1 + rng.int(lb[i] - 2) : c;
      if (imbalanced) {
        const s = rng.bernoulli(0.5) ? 1 : -1, sa = rng.bernoulli(0.5) ? 1 : -1;
        for (let t = 0; t < la[i]; t++) { put(xa, TA, i, t, 0.5 * o.amplitude * a); xa[(i * TA + t) * F + 3] = sa; }
        for (let t = 0; t < lb[i]; t++) { xb[(i * TB + t) * F + 3] = s; if (complementary) put(xb, TB, i, t, 0.5 * ampB * z2); }
        for (let dt = -1; dt <= 1; dt++) put(xb, TB, i, cb + dt, (dt === 0 ? 1 : 0.5) * ampB * s * b);
      } else {
        for (let dt = -1; dt <= 1; dt++) {
          const w = dt === 0 ? 1 : 0.5;
          put(xa, TA, i, c + dt, w * o.amplitude * a);
          put(xb, TB, i, cb + dt, w * ampB * b);
        }
      }
      if (K > 0) {
        for (const [x, T, L, sd] of [[xa, TA, la[i], o.noise], [xb, TB, lb[i], noiseB]] as const) {
          for (let k = 0; k < K; k++) {
            for (let t = 0; t < L; t++) x[(i * T + t) * F + base.length + k] = rng.normal(0, sd);
            const cn = 1 + rng.int(L - 2), h = rng.normal(0, nuisAmp);
            for (let dt = -1; dt <= 1; dt++) x[(i * T + cn + dt) * F + base.length + k] += (dt === 0 ? 1 : 0.5) * h;
          }
        }
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
  const drop = (x: Float32Array, len: Int32Array, T: number, rows: ArrayLike<number>, rate: number) => {
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      if (!rng.bernoulli(rate)) continue;
      len[r] = 0;
      x.fill(0, r * T * F, (r + 1) * T * F);
    }
  };
  for (const [miss, x, len, T] of [[o.missingSpeech, xb, lb, TB], [o.missingActivity, xa, la, TA]] as const) {
    if (miss?.train) drop(x, len, T, split.train, miss.train);
    if (miss?.eval) { drop(x, len, T, split.dev, miss.eval); drop(x, len, T, split.test, miss.eval); }
  }
  const modalities: SeqModality[] = [
    { name: 'activity', steps: TA, features: F, featureNames, x: xa, length: la },
    { name: 'speech', steps: TB, features: F, featureNames, x: xb, length: lb },
  ];
  const tasks: SeqTask[] = [
    { name: 'depressed', classes: ['no', 'yes'], y: dep },
    { name: 'emotion', classes: ['negative', 'anxious', 'positive'], y: emo },
  ];
  return {
    n, participantIds, participant, modalities, tasks, split,
    notes: [`planted study: ${P} participants × ${o.perParticipant} reports, cue ${o.cue}, decoy ${o.decoy || o.cue === 'pointer'}, main-label rate ${o.mainLabelRate}${o.emotionClasses === 'refine' ? ', emotion classes refine the main task' : ''}` +
      `${rate2 < 1 ? `, secondary-label rate ${rate2}` : ''}${K > 0 ? `, ${K} nuisance channels (bump SD ${nuisAmp})` : ''}${o.missingSpeech?.train || o.missingSpeech?.eval ? `, speech missing on ${o.missingSpeech.train ?? 0} of training and ${o.missingSpeech.eval ?? 0} of dev/test reports` : ''}${o.missingActivity?.train || o.missingActivity?.eval ? `, activity missing on ${o.missingActivity.train ?? 0} of training and ${o.missingActivity.eval ?? 0} of dev/test reports` : ''}${o.amplitudeB !== undefined || o.noiseB !== undefined ? `, speech amplitude ${ampB} / noise ${noiseB} (activity ${o.amplitude} / ${o.noise})` : ''}`],
  };
}
