/** Max fusion: element-wise max over the present modality vectors (0 when none is present). */
import { tf } from '../backend.js';
import type { T2 } from '../nn.js';
import type { FusionMethod } from './types.js';

export const max: FusionMethod = {
  tfjs: ({ d }) => ({
    outDim: d,
    apply: (h, mask) => {
      const m = tf.expandDims(mask, 2);
      const shifted = tf.add(tf.mul(h, m), tf.mul(tf.sub(m, 1), 1e4)); // missing → −10⁴
      const any = tf.max(mask, 1, true);                               // [B,1]
      return tf.mul(tf.max(shifted, 1), any) as T2;
    },
  }),
  plain: ({ M, d }) => (h, mask) => {
    const out = new Float32Array(d).fill(-Infinity);
    let any = 0;
    for (let m = 0; m < M; m++) {
      any = Math.max(any, mask[m]);
      for (let i = 0; i < d; i++) out[i] = Math.max(out[i], h[m][i] * mask[m] + (mask[m] - 1) * 1e4);
    }
    for (let i = 0; i < d; i++) out[i] *= any;
    return out;
  },
};
