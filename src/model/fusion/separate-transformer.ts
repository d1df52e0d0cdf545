/**
 * Separate transformer embeddings: one transformer encoder layer per modality, over the
 * modality vector read as `chunks` tokens (+ learned position embeddings); the re-embedded
 * modality vectors are concatenated (masked).
 */
import { tf } from '../backend.js';
import { applyEncoder, encoderLayer, plainApplyEncoder, plainEncoderLayer, uniformInit, type T2, type T3 } from '../nn.js';
import type { FusionMethod } from './types.js';
import { chunks, chunkWidth } from './util.js';

export const separateTransformer: FusionMethod = {
  tfjs: ({ ps, M, d, opts }) => {
    const C = opts.chunks, dc = chunkWidth('separate-transformer', d, C);
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
  },
  plain: ({ w, M, d, opts }) => {
    const C = opts.chunks, dc = chunkWidth('separate-transformer', d, C), ones = new Float32Array(C).fill(1);
    const enc = Array.from({ length: M }, (_, m) => plainEncoderLayer(w, `fusion.sep${m}`, dc, 1));
    const pos = Array.from({ length: M }, (_, m) => w.get(`fusion.sep${m}.pos`));
    return (h, mask) => {
      const out = new Float32Array(M * d);
      for (let m = 0; m < M; m++) {
        if (mask[m] === 0) continue;
        const x = chunks(h[m], C).map((t, c) => t.map((v, i) => v + pos[m][c * dc + i]));
        plainApplyEncoder(enc[m], x, ones).forEach((t, c) => { for (let i = 0; i < dc; i++) out[m * d + c * dc + i] = t[i] * mask[m]; });
      }
      return out;
    };
  },
};
