/**
 * Cross-modal attention: each modality attends to the OTHER present modalities (query from
 * itself, keys/values from the others), added residually; then masked concatenation.
 */
import { tf } from '../backend.js';
import type { FusionMethod } from './types.js';
import { flattenTokens, maskTokens, plainMaskedConcat } from './util.js';
import { attendTokens, plainAttendTokens, plainTokenAttention, tokenAttention } from './token-attention.js';

export const crossModalAttention: FusionMethod = {
  tfjs: ({ ps, M, d }) => {
    const att = tokenAttention(ps, 'fusion.cross', d);
    const notSelf = ps.constant(() => tf.sub(1, tf.eye(M)));
    return {
      outDim: M * d,
      apply: (h, mask) => {
        const B = h.shape[0];
        const valid = tf.mul(tf.mul(tf.expandDims(mask, 2), tf.expandDims(mask, 1)), notSelf).reshape([B, M, M]) as import('@tensorflow/tfjs').Tensor3D;
        return flattenTokens(maskTokens(attendTokens(att, maskTokens(h, mask), valid), mask));
      },
    };
  },
  plain: ({ w, d }) => {
    const qkv = plainTokenAttention(w, 'fusion.cross', d);
    return (h, mask) => plainMaskedConcat(plainAttendTokens(qkv, h, (m, j) => (m === j ? 0 : mask[m] * mask[j])), mask);
  },
};
