/**
 * Attention fusion: a score per modality vector, softmax over the present modalities,
 *   α_m = softmax_m(vᵀ tanh(W h_m + b)),  fused = Σ_m α_m h_m.
 */
import { tf } from '../backend.js';
import { dense, applyDense, linearInit, maskedSoftmax, plainDense, plainMaskedSoftmax, type T2 } from '../nn.js';
import type { FusionMethod } from './types.js';

export const attention: FusionMethod = {
  tfjs: ({ ps, M, d }) => {
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
  },
  plain: ({ w, M, d }) => {
    const proj = w.dense('fusion.att', d, d), v = w.get('fusion.att.v');
    return (h, mask) => {
      const scores = new Float64Array(M);
      for (let m = 0; m < M; m++) {
        const e = plainDense(proj, h[m]);
        let s = 0;
        for (let i = 0; i < d; i++) s += Math.tanh(e[i]) * v[i];
        scores[m] = s;
      }
      const a = plainMaskedSoftmax(scores, mask), out = new Float32Array(d);
      for (let m = 0; m < M; m++) for (let i = 0; i < d; i++) out[i] += a[m] * h[m][i];
      return out;
    };
  },
};
