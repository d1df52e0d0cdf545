/**
 * The contract shared by AMM and MIMML: a set of parameters and a forward pass from a batch to
 * one logit matrix per task (in the model's task order), plus any extra loss term of the model
 * (MIMML's mutual-information and auxiliary terms). The trainer adds cross-entropy and L2.
 */
import { tf } from '../model/backend.js';
import type { SeqParams } from './seq/params.js';
import type { SeqBatch } from './data.js';

export interface ForwardOutput {
  /** Per task of the model: [B, K_task] logits. */
  logits: tf.Tensor2D[];
  /** Model-specific loss terms, already weighted (summed into the loss by the trainer). */
  extra?: Record<string, tf.Scalar>;
}

export interface SeqModel {
  name: string;
  store: SeqParams;
  /** Indices into SeqData.modalities / SeqData.tasks, in the model's order (main task first). */
  modalities: number[];
  tasks: number[];
  taskWeights: number[];
  forward(batch: SeqBatch, training: boolean): ForwardOutput;
}

/** Inverted dropout with a seed drawn from the run's Rng (reproducible); identity when not training. */
export function dropout(x: tf.Tensor, rate: number, training: boolean, seed: () => number): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate, undefined, seed()) : x;
}
