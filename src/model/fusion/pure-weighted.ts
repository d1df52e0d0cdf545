/** Pure weighted fusion: fixed weights w_m, fused = Σ_m w_m m_m h_m / Σ_m w_m m_m (present only). */
import { tf } from '../backend.js';
import type { T2 } from '../nn.js';
import type { FusionFactory } from './types.js';

export const pureWeighted: FusionFactory = ({ ps, M, d, opts }) => {
  const w = opts.weights ?? Array(M).fill(1 / M);
  if (w.length !== M) throw new Error(`pure-weighted fusion: ${w.length} weights given for ${M} modalities`);
  const wt = ps.constant(() => tf.tensor2d(w, [1, M]));
  return {
    outDim: d,
    apply: (h, mask) => {
      const wm = tf.mul(mask, wt);                                   // [B,M]
      const den = tf.maximum(tf.sum(wm, 1, true), 1e-6);
      return tf.div(tf.sum(tf.mul(h, tf.expandDims(wm, 2)), 1), den) as T2;
    },
    report: () => ({ modalityWeights: w }),
  };
};
