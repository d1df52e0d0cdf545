/**
 * Solo-attention: self-attention inside each modality before concatenation. Each modality
 * vector h_m is read as `chunks` tokens of width d/chunks; one attention layer per modality
 * (its own weights) re-weights them; the results are concatenated (masked).
 */
import { tf } from '../backend.js';
import type { T2, T3 } from '../nn.js';
import type { FusionMethod } from './types.js';
import { attendTokens, plainAttendTokens, plainTokenAttention, tokenAttention } from './token-attention.js';
import { chunks, chunkWidth } from './util.js';

export const soloAttention: FusionMethod = {
  tfjs: ({ ps, M, d, opts }) => {
    const C = opts.chunks, dc = chunkWidth('solo-attention', d, C);
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
  },
  plain: ({ w, M, d, opts }) => {
    const C = opts.chunks, dc = chunkWidth('solo-attention', d, C);
    const atts = Array.from({ length: M }, (_, m) => plainTokenAttention(w, `fusion.solo${m}`, dc));
    return (h, mask) => {
      const out = new Float32Array(M * d);
      for (let m = 0; m < M; m++) {
        if (mask[m] === 0) continue;
        plainAttendTokens(atts[m], chunks(h[m], C), () => 1).forEach((t, c) => { for (let i = 0; i < dc; i++) out[m * d + c * dc + i] = t[i] * mask[m]; });
      }
      return out;
    };
  },
};
