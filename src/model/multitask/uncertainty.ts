/**
 * Uncertainty weighting (Kendall, Gal & Cipolla 2018), with learnable log-variances z_k = log σ_k²:
 *   L = Σ_k ½·exp(−z_k)·L_k + ½·z_k.
 */
import { tf } from '../backend.js';
import { zerosInit } from '../nn.js';
import type { WeightingFactory } from './types.js';

export const uncertainty: WeightingFactory = ({ ps, K }) => {
  const z = ps.add('multitask.logVar', [K], zerosInit);
  return {
    towers: false,
    combine: (L, valid) => tf.sum(tf.mul(valid, tf.add(tf.mul(tf.mul(0.5, tf.exp(tf.neg(z))), L), tf.mul(0.5, z)))),
    weights: () => Array.from(z.dataSync(), (v) => 0.5 * Math.exp(-v)),
  };
};
