/** Pure weighted fusion: fixed weights w_m, fused = Σ_m w_m m_m h_m / Σ_m w_m m_m (present only). */
import { tf } from '../backend.js';
import type { T2 } from '../nn.js';
import type { FusionMethod } from './types.js';

function fixedWeights(M: number, weights: number[] | undefined): number[] {
  const w = weights ?? Array(M).fill(1 / M);
  if (w.length !== M) throw new Error(`pure-weighted fusion: ${w.length} weights given for ${M} modalities`);
  return w;
}

export const pureWeighted: FusionMethod = {
  tfjs: ({ ps, M, d, opts }) => {
    const w = fixedWeights(M, opts.weights);
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
  },
  plain: ({ M, d, opts }) => {
    const w = fixedWeights(M, opts.weights);
    return (h, mask) => {
      const out = new Float32Array(d);
      let den = 0;
      for (let m = 0; m < M; m++) den += mask[m] * w[m];
      den = Math.max(den, 1e-6);
      for (let m = 0; m < M; m++) { const wm = (mask[m] * w[m]) / den; for (let i = 0; i < d; i++) out[i] += h[m][i] * wm; }
      return out;
    };
  },
};
