/** Pure weighted (fixed weights): L = Σ_k w_k L_k, w given in the config (default 1/K). */
import { tf } from '../backend.js';
import type { WeightingFactory } from './types.js';

export const fixed: WeightingFactory = ({ ps, K, opts }) => {
  const w = opts.weights ?? Array(K).fill(1 / K);
  if (w.length !== K) throw new Error(`fixed task weights: ${w.length} given for ${K} tasks`);
  const wt = ps.constant(() => tf.tensor1d(w));
  return { towers: false, combine: (L, valid) => tf.sum(tf.mul(tf.mul(L, valid), wt)), weights: () => w };
};
