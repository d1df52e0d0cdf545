/**
 * Gated fusion (gated multimodal unit, Arevalo et al. 2017, generalised to M modalities):
 *   z_m = σ(W_z,m [h₁;…;h_M] + b),  fused = Σ_m m_m · z_m ⊙ tanh(V_m h_m + c_m).
 */
import { tf } from '../backend.js';
import { dense, applyDense, linearInit, plainDense, type T2 } from '../nn.js';
import type { FusionMethod } from './types.js';
import { flattenTokens, maskTokens, perModality, plainMaskedConcat } from './util.js';

export const gated: FusionMethod = {
  tfjs: ({ ps, M, d }) => {
    const gate = dense(ps, 'fusion.gate', M * d, M * d);
    const v = ps.add('fusion.v.w', [M, d, d], linearInit(d));
    const c = ps.add('fusion.v.b', [M, d], linearInit(d));
    return {
      outDim: d,
      apply: (h, mask) => {
        const B = h.shape[0];
        const hm = maskTokens(h, mask);
        const z = tf.sigmoid(applyDense(gate, flattenTokens(hm))).reshape([B, M, d]);
        const cand = tf.tanh(perModality(h, v, c));
        return tf.sum(maskTokens(tf.mul(z, cand) as tf.Tensor3D, mask), 1) as T2;
      },
    };
  },
  plain: ({ w, M, d }) => {
    const gate = w.dense('fusion.gate', M * d, M * d), v = w.get('fusion.v.w'), c = w.get('fusion.v.b');
    return (h, mask) => {
      const z = plainDense(gate, plainMaskedConcat(h, mask)), out = new Float32Array(d);
      for (let m = 0; m < M; m++) {
        if (mask[m] === 0) continue;
        for (let j = 0; j < d; j++) {
          let s = c[m * d + j];
          for (let i = 0; i < d; i++) s += h[m][i] * v[(m * d + i) * d + j];
          out[j] += (mask[m] / (1 + Math.exp(-z[m * d + j]))) * Math.tanh(s);
        }
      }
      return out;
    };
  },
};
