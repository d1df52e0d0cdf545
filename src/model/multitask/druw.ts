/**
 * DRUW loss (Dynamic Restrained Uncertainty Weighting; SPEC §2, after the released code of
 * arXiv 2206.11049), with one unconstrained learnable s_k per task (in the optimiser):
 *   L = Σ_k (w_k^DWA + c / (s_k² + ε)) · L_k + Σ_k log(1 + s_k²) + |φ − Σ_k |s_k||
 * c = 1/K by default, φ = 1, s_k starts at 0.33; ε guards s_k² from 0.
 */
import { tf } from '../backend.js';
import { constInit } from '../nn.js';
import { DwaWeights } from './dwa.js';
import type { WeightingFactory } from './types.js';

export const druw: WeightingFactory = ({ ps, K, opts }) => {
  const c = opts.c ?? 1 / K;
  const s = ps.add('multitask.druw.s', [K], constInit(opts.sInit));
  const mem = new DwaWeights(K, opts.temperature);
  const uncertaintyWeight = () => tf.div(c, tf.add(tf.square(s), opts.eps));
  return {
    towers: false,
    combine: (L, valid) => {
      const w = tf.add(tf.tensor1d(mem.weights()), uncertaintyWeight());
      const restraint = tf.add(tf.sum(tf.log1p(tf.square(s))), tf.abs(tf.sub(opts.phi, tf.sum(tf.abs(s)))));
      return tf.add(tf.sum(tf.mul(tf.mul(w, L), valid)), restraint) as tf.Scalar;
    },
    endEpoch: (m) => mem.endEpoch(m),
    weights: () => { const dw = mem.weights(); return tf.tidy(() => Array.from(uncertaintyWeight().dataSync(), (u, k) => dw[k] + u)); },
    state: () => mem.history,
    load: (st) => { mem.history = st as number[][]; },
  };
};
