/** Max fusion: element-wise max over the present modality vectors (0 when none is present). */
import { tf } from '../backend.js';
import type { T2 } from '../nn.js';
import type { FusionFactory } from './types.js';

export const max: FusionFactory = ({ d }) => ({
  outDim: d,
  apply: (h, mask) => {
    const m = tf.expandDims(mask, 2);
    const shifted = tf.add(tf.mul(h, m), tf.mul(tf.sub(m, 1), 1e4)); // missing → −10⁴
    const any = tf.max(mask, 1, true);                               // [B,1]
    return tf.mul(tf.max(shifted, 1), any) as T2;
  },
});
