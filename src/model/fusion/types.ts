/**
 * The fusion axis (SPEC §3): combines the M encoded modality vectors H [B, M, d] into one
 * vector per instance, honouring the modality mask [B, M] (1 = present) so an instance with a
 * missing modality still gets a prediction.
 */
import type { tf } from '../backend.js';
import type { ParamStore, PlainParams, T2, T3 } from '../nn.js';
import type { FusionConfig } from '../config.js';

export interface FusionContext { ps: ParamStore; M: number; d: number; opts: FusionConfig }

export interface Fusion {
  /** Width of the fused vector. */
  readonly outDim: number;
  apply(h: T3, mask: T2): T2;
  /** A scalar added once per training step to the loss (DRUW's restraint), if any. */
  regularizer?(): tf.Scalar;
  /** Learned modality weights to report, if any. */
  report?(): Record<string, number[]>;
}

export type FusionFactory = (ctx: FusionContext) => Fusion;

/** The same on one instance's plain arrays: h[m] [d] (zeros where masked), mask [M] → fused [outDim]. */
export type PlainFusion = (h: Float32Array[], mask: Float32Array) => Float32Array;
export type PlainFusionFactory = (ctx: Omit<FusionContext, 'ps'> & { w: PlainParams }) => PlainFusion;

/** A fusion method: its tfjs part and its plain twin. */
export interface FusionMethod { tfjs: FusionFactory; plain: PlainFusionFactory }
