/**
 * Configurations of the sequence classifiers, one zod schema each: the TypeScript type, the
 * defaults (the papers' settings) and the validation of a JSON config come from one place.
 */
import { z } from 'zod';

/** Training (AMM §IV-A, Table II, DAIC column): Adam, lr 1e-3, batch 64, 100 epochs. */
export const TrainConfigSchema = z.object({
  lr: z.number().positive().default(1e-3),
  batch: z.number().int().positive().default(64),
  epochs: z.number().int().positive().default(100),
  /** Stop when the development score has not improved for this many epochs (0 = never). */
  patience: z.number().int().min(0).default(15),
  /** L2 coefficient λ of the loss Σ CE + λ·½‖W‖². */
  l2: z.number().min(0).default(1e-4),
  /** Development score used to choose the checkpoint: the main task's balanced accuracy or −loss. */
  select: z.enum(['balanced-accuracy', 'loss']).default('balanced-accuracy'),
  seed: z.number().int().default(1),
  /** Weight each class by n / (K · n_class) in the cross-entropy (not in the papers; for skewed tasks). */
  balance: z.boolean().default(false),
  /**
   * Also train on training rows that carry no label of the model's tasks (semi-supervised): their
   * cross-entropy is 0, so only the model's own terms (MIMML's InfoNCE) learn from them. A study
   * has far more sensing windows than answered questionnaires; this lets those windows count.
   */
  unlabelled: z.boolean().default(false),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** AMM (seed 002, SPEC §4). */
export const AmmConfigSchema = z.object({
  kind: z.literal('amm').default('amm'),
  /** Modalities used, by name (one = single-modality mode). */
  modalities: z.array(z.string()).min(1),
  /** Tasks, main first (one = single-task mode). */
  tasks: z.array(z.string()).min(1),
  /** GRU width per direction; the BiGRU state is 2·hidden. */
  hidden: z.number().int().positive().default(32),
  /** Width of the additive attention D = tanh(W_d H + b_d). */
  attention: z.number().int().positive().default(32),
  /** Inter-modal heads H (8 in AMM) and width per head. */
  heads: z.number().int().positive().default(8),
  headDim: z.number().int().positive().default(8),
  /** Width of each task's LSTM. */
  taskHidden: z.number().int().positive().default(32),
  /** Dropout 0.3 (DAIC) on the modality vectors and before the heads. */
  dropout: z.number().min(0).max(0.9).default(0.3),
  /** Weights ~ U(−initScale, initScale), biases 0. */
  initScale: z.number().positive().default(0.1),
  /** Inter-modal attention I_e (false: concatenation of the modality vectors). */
  interModal: z.boolean().default(true),
  /** Inter-task attention I_t (false: each task reads its own LSTM). */
  interTask: z.boolean().default(true),
  /**
   * Keys and values of I_t: 'other' = the other tasks' LSTM states, as Eq. 6 prints it
   * (h_dep = Att(h*_dep, h*_emo)); 'all' = every task's states, own included — the "self-attention"
   * over all tasks that the paper's text names. With 'other' each head reads only the other task's
   * LSTM, whose states (as values) are trained by this task's own labels; with 'all' a head can
   * also read states shaped by the other task's labels.
   */
  interTaskKeys: z.enum(['other', 'all']).default('other'),
  /** Concatenate side-knowledge vectors where a modality has them. */
  side: z.boolean().default(true),
  /** Loss weight per task (default 1 each). */
  taskWeights: z.array(z.number().min(0)).optional(),
});
export type AmmConfig = z.infer<typeof AmmConfigSchema>;

/** MIMML (seed 003, SPEC §5). */
export const MimmlConfigSchema = z.object({
  kind: z.literal('mimml').default('mimml'),
  modalities: z.array(z.string()).min(1),
  /** Tasks predicted from the fused representation, main first. */
  tasks: z.array(z.string()).min(1),
  hidden: z.number().int().positive().default(32),
  /** CNN channels and kernel over the BiGRU states. */
  channels: z.number().int().positive().default(32),
  kernel: z.number().int().positive().default(3),
  /** Width of every modality representation and of the fused one. */
  width: z.number().int().positive().default(32),
  dropout: z.number().min(0).max(0.9).default(0.3),
  initScale: z.number().positive().default(0.1),
  /** Weight of the InfoNCE term Σ_m L_NCE(r_m, f) (0 or mi=false: no MI term). */
  mi: z.boolean().default(true),
  miWeight: z.number().min(0).default(0.1),
  /**
   * What each modality representation r_m is contrasted with: 'fused' = the fused f (SPEC §5 as
   * written: I(r_m; f)); 'modalities' = every other modality's r_n (I(r_m; r_n), the cross-modal
   * "modality-invariance" term of contrastive multi-view learning — f contains r_m, so I(r_m; f)
   * can be maximised by r_m alone, while I(r_m; r_n) is only what the two recordings share);
   * 'both' = the two sums.
   */
  miTarget: z.enum(['fused', 'modalities', 'both']).default('fused'),
  /** InfoNCE temperature τ of the cosine critic. */
  temperature: z.number().positive().default(0.2),
  /** Unimodal auxiliary heads (main task from each modality alone). */
  aux: z.boolean().default(true),
  auxWeight: z.number().min(0).default(0.3),
  taskWeights: z.array(z.number().min(0)).optional(),
});
export type MimmlConfig = z.infer<typeof MimmlConfigSchema>;

export type SeqModelConfig = AmmConfig | MimmlConfig;
