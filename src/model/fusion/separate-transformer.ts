/**
 * Separate transformer embeddings: one transformer encoder layer per modality, over the
 * modality vector read as `chunks` tokens (+ learned position embeddings); the re-embedded
 * modality vectors are concatenated (masked).
 */
import { tf } from '../backend.js';
import { applyEncoder, encoderLayer, uniformInit, type T2, type T3 } from '../nn.js';
import type { FusionFactory } from './types.js';

export const separateTransformer: FusionFactory = ({ ps, M, d, opts }) => {
  const C = opts.chunks, dc = d / C;
  if (!Number.isInteger(dc)) throw new Error(`separate-transformer: width ${d} not divisible by ${C} chunks`);
  const enc = Array.from({ length: M }, (_, m) => encoderLayer(ps, `fusion.sep${m}`, dc, 1));
  const pos = Array.from({ length: M }, (_, m) => ps.add(`fusion.sep${m}.pos`, [C, dc], uniformInit(0.1)));
  return {
    outDim: M * d,
    apply: (h, mask) => {
      const B = h.shape[0];
      const ones = tf.ones([B, C]) as T2;
      const parts = tf.unstack(h, 1).map((hm, m) => {
        const x = tf.add(hm.reshape([B, C, dc]), pos[m]) as T3;
        return tf.mul(applyEncoder(enc[m], x, ones).reshape([B, d]), tf.slice(mask, [0, m], [B, 1]));
      });
      return tf.concat(parts, 1) as T2;
    },
  };
};
