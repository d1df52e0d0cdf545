/**
 * The multitask axis (SPEC §3, LibMTL's "weighting"): turns the K per-task losses L_k into the
 * training loss. `valid` [K] is 0 for a task with fewer than 2 labels in the batch.
 */
import type { tf } from '../backend.js';
import type { ParamStore } from '../nn.js';
import type { MultitaskConfig } from '../config.js';

export interface MultitaskContext { ps: ParamStore; K: number; opts: MultitaskConfig }

export interface Weighting {
  /** Task-specific towers before the K outputs (multi-output) instead of one shared linear head. */
  readonly towers: boolean;
  combine(L: tf.Tensor1D, valid: tf.Tensor1D): tf.Scalar;
  /** End of an epoch: the mean per-task losses of that epoch (DWA's memory). */
  endEpoch?(meanLosses: number[]): void;
  /** The current effective task weights, to report. */
  weights(): number[];
  /** JSON state beyond trainable variables (for resuming), and its restore. */
  state?(): unknown;
  load?(s: unknown): void;
}

export type WeightingFactory = (ctx: MultitaskContext) => Weighting;
