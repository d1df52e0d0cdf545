/**
 * The experiment config: one zod schema gives the type, the defaults (the paper's) and the
 * validation of a config file (strict: an unknown key is an error, not silently dropped). Three axes choose a part by name (SPEC §3):
 *   { fusion: {name: "druw"}, personalization: {name: "macro-micro"}, multitask: {name: "druw"} }
 */
import { z } from 'zod';

export const FUSIONS = [
  'concat', 'max', 'gated', 'attention', 'solo-attention', 'post-concat-attention',
  'cross-modal-attention', 'pure-weighted', 'separate-transformer', 'druw',
] as const;
export const PERSONALIZATIONS = ['none', 'ffnn', 'transformer', 'adapter', 'macro-micro'] as const;
export const MULTITASKS = ['single-task', 'equal', 'multi-output', 'fixed', 'uncertainty', 'dwa', 'druw'] as const;

export const FusionConfigSchema = z.object({
  name: z.enum(FUSIONS).default('druw'),
  /** pure-weighted: fixed weight per modality (default equal); renormalised over present modalities. */
  weights: z.array(z.number().nonnegative()).optional(),
  /** DRUW fusion: numerator c (default 1/M), restraint φ, guard ε on s_m², and the restraint's loss weight. */
  c: z.number().positive().optional(),
  phi: z.number().default(1),
  eps: z.number().positive().default(1e-3),
  restraintWeight: z.number().nonnegative().default(1),
  /** solo-attention / separate-transformer: each modality vector is split into this many tokens. */
  chunks: z.number().int().positive().default(4),
}).strict().prefault({});

export const PersonalizationConfigSchema = z.object({
  name: z.enum(PERSONALIZATIONS).default('macro-micro'),
  /** P_u = λ·E_macro + (1−λ)·E_micro,u; λ fixed, or learned globally or per user. */
  lambda: z.number().min(0).max(1).default(0.5),
  learnLambda: z.enum(['fixed', 'global', 'per-user']).default('fixed'),
  /** Hidden width of each user's micro FFNN (and of the per-user FFNN baseline). */
  microHidden: z.number().int().positive().default(32),
  /** Adapter bottleneck width. */
  adapterBottleneck: z.number().int().positive().default(16),
  /**
   * Beyond the paper: fraction of training samples that take the macro path alone (micro
   * layer masked), so the macro-only prediction for a new participant is calibrated.
   */
  microDropout: z.number().min(0).max(1).default(0.1),
}).strict().prefault({});

export const MultitaskConfigSchema = z.object({
  name: z.enum(MULTITASKS).default('druw'),
  /** Per-task loss L_k: 1 − CCC over the labelled samples of the batch, or MSE. */
  taskLoss: z.enum(['ccc', 'mse']).default('ccc'),
  /** fixed ("pure weighted"): weight per task (default 1/K each). */
  weights: z.array(z.number().nonnegative()).optional(),
  /** DWA temperature T. */
  temperature: z.number().positive().default(2),
  /** DRUW loss: c (default 1/K), φ, initial s_k, guard ε on s_k². */
  c: z.number().positive().optional(),
  phi: z.number().default(1),
  sInit: z.number().default(0.33),
  eps: z.number().positive().default(1e-3),
}).strict().prefault({});

export const ModelConfigSchema = z.object({
  /** Modalities used (activity channel names and/or "speech"); default: all the study has. */
  modalities: z.array(z.string()).min(1).optional(),
  /** Common width d of every encoder output and of the macro space. */
  width: z.number().int().positive().default(64),
  /** Attention heads of the transformer encoder layer. */
  heads: z.number().int().positive().default(4),
  /**
   * Beyond the paper (issue 16): "person-mean" makes the heads residual to each participant's
   * training mean — ŷ_k = σ(a_u,k + head_k(P)) with a per-user anchor a_u initialised at
   * logit(participant's training mean of item k) and trained with the per-user layers; a
   * participant not seen in training (and micro-dropout samples) gets a shared anchor initialised
   * at logit(global training mean). The heads' last layer starts at 0, so the untrained model
   * predicts each participant's training mean. "none": the paper's heads.
   */
  anchor: z.enum(['none', 'person-mean']).default('none'),
  /**
   * Beyond the paper (issue 16): dropout rate on the encoded modality vectors and on P_u before
   * the heads, in training only (inverted dropout; masks drawn from the trainer's seeded Rng). 0: none.
   */
  dropout: z.number().min(0).lt(1).default(0),
  /**
   * Beyond the paper (issue 16): one more modality token built from the participant's reports
   * answered strictly before the predicted one (last value, EWMA and time since, per item; local
   * hour and weekday) — src/data/history.ts; masked when there is no earlier report.
   */
  history: z.boolean().default(false),
  fusion: FusionConfigSchema,
  personalization: PersonalizationConfigSchema,
  multitask: MultitaskConfigSchema,
}).strict().prefault({});

export const TrainConfigSchema = z.object({
  epochs: z.number().int().positive().default(100),
  batchSize: z.number().int().positive().default(16),
  lr: z.number().positive().default(0.001),
  momentum: z.number().min(0).max(1).default(0.9),
  nesterov: z.boolean().default(true),
  weightDecay: z.number().nonnegative().default(1e-4),
  /** lr ← lr × lrDecay when the development mean CCC has not improved for lrPatience epochs. */
  lrDecay: z.number().positive().max(1).default(0.9),
  lrPatience: z.number().int().positive().default(5),
  /**
   * Beyond the paper (issue 16): a seed ensemble of this many members — member j trains with
   * seed + 1000·j (member 0 is the single model of this seed) and the predictions are averaged.
   * Ignored by single-task training. 1: one model, as the paper.
   */
  ensemble: z.number().int().positive().max(20).default(1),
  /**
   * Beyond the paper: stop when the development mean CCC has not improved by more than
   * `earlyStopMinDelta` for this many epochs (the best epoch's weights are kept either way).
   * null: run all epochs, as the paper (preset paper-original).
   */
  earlyStop: z.number().int().positive().nullable().default(15),
  /**
   * What counts as an improvement for early stopping: beating the development mean CCC of the last
   * improvement by more than this (epoch-to-epoch noise on real data is ±0.01–0.02). 0: any gain.
   */
  earlyStopMinDelta: z.number().min(0).max(1).default(0.01),
  seed: z.number().int().default(1),
  /** Beyond the paper: drop each present modality with this probability in training (never all). */
  modalityDropout: z.number().min(0).max(1).default(0.1),
  /** Activity counts are log1p-transformed before the per-participant standardisation. */
  activityTransform: z.enum(['log1p', 'none']).default('log1p'),
  /** Which reports become instances: all with answered items, missing modalities masked (SPEC §6), or only complete ones (MM). */
  policy: z.enum(['masked', 'complete']).default('masked'),
  /** Split-conformal miscoverage α of the prediction intervals. */
  conformalAlpha: z.number().gt(0).lt(1).default(0.1),
}).strict().prefault({});

export const ConfigSchema = z.object({
  model: ModelConfigSchema,
  train: TrainConfigSchema,
}).strict().prefault({});

export type FusionConfig = z.infer<typeof FusionConfigSchema>;
export type PersonalizationConfig = z.infer<typeof PersonalizationConfigSchema>;
export type MultitaskConfig = z.infer<typeof MultitaskConfigSchema>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Deep-partial config → full config with defaults. */
export function makeConfig(input: ConfigInput = {}): Config { return ConfigSchema.parse(input); }
