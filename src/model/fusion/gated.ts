/**
 * Gated fusion (gated multimodal unit, Arevalo et al. 2017, generalised to M modalities):
 *   z_m = σ(W_z,m [h₁;…;h_M] + b),  fused = Σ_m m_m · z_m ⊙ tanh(V_m h_m + c_m).
 */
import { tf } from '../backend.js';
import { dense, applyDense, linearInit, type T2 } from '../nn.js';
import type { FusionFactory } from './types.js';
import { flattenTokens, maskTokens, perModality } from './util.js';

export const gated: FusionFactory = ({ ps, M, d }) => {
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
};
