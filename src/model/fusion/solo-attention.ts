/**
 * Solo-attention: self-attention inside each modality before concatenation. Each modality
 * vector h_m is read as `chunks` tokens of width d/chunks; one attention layer per modality
 * (its own weights) re-weights them; the results are concatenated (masked).
 */
import { tf } from '../backend.js';
import type { T2, T3 } from '../nn.js';
import type { FusionFactory } from './types.js';
import { attendTokens, tokenAttention } from './token-attention.js';

export const soloAttention: FusionFactory = ({ ps, M, d, opts }) => {
  const C = opts.chunks, dc = d / C;
  if (!Number.isInteger(dc)) throw new Error(`solo-attention: width ${d} not divisible by ${C} chunks`);
  const atts = Array.from({ length: M }, (_, m) => tokenAttention(ps, `fusion.solo${m}`, dc));
  return {
    outDim: M * d,
    apply: (h, mask) => {
      const B = h.shape[0];
      const ones = tf.ones([B, C, C]) as tf.Tensor3D;
      const parts = tf.unstack(h, 1).map((hm, m) => {
        const out = attendTokens(atts[m], hm.reshape([B, C, dc]) as T3, ones).reshape([B, d]);
        return tf.mul(out, tf.slice(mask, [0, m], [B, 1]));
      });
      return tf.concat(parts, 1) as T2;
    },
  };
};
