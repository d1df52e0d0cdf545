/**
 * Attention fusion: a score per modality vector, softmax over the present modalities,
 *   α_m = softmax_m(vᵀ tanh(W h_m + b)),  fused = Σ_m α_m h_m.
 */
import { tf } from '../backend.js';
import { dense, applyDense, linearInit, maskedSoftmax, type T2 } from '../nn.js';
import type { FusionFactory } from './types.js';

export const attention: FusionFactory = ({ ps, M, d }) => {
  const proj = dense(ps, 'fusion.att', d, d);
  const v = ps.add('fusion.att.v', [d, 1], linearInit(d));
  return {
    outDim: d,
    apply: (h, mask) => {
      const B = h.shape[0];
      const e = tf.tanh(applyDense(proj, h.reshape([B * M, d]) as T2));
      const scores = tf.matMul(e, v as unknown as T2).reshape([B, M]);
      const alpha = maskedSoftmax(scores, mask);                      // [B,M]
      return tf.sum(tf.mul(h, tf.expandDims(alpha, 2)), 1) as T2;
    },
  };
};
