/** Equal weights (MM's benchmark): L = Σ_k L_k. Also used per model by single-task training. */
import { tf } from '../backend.js';
import type { WeightingFactory } from './types.js';

export const equal: WeightingFactory = ({ K }) => ({
  towers: false,
  combine: (L, valid) => tf.sum(tf.mul(L, valid)),
  weights: () => Array(K).fill(1),
});

/** Multi-output: a task-specific tower per item on the shared embedding, L = Σ_k L_k. */
export const multiOutput: WeightingFactory = (ctx) => ({ ...equal(ctx), towers: true });
