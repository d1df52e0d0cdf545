/**
 * Post-concatenation attention: the modality vectors are concatenated into one sequence and a
 * self-attention layer (each token attends to every present token, itself included) re-weights
 * them before the flattened concatenation.
 */
import { tf } from '../backend.js';
import type { FusionMethod } from './types.js';
import { flattenTokens, maskTokens, plainMaskedConcat } from './util.js';
import { attendTokens, plainAttendTokens, plainTokenAttention, tokenAttention } from './token-attention.js';

export const postConcatAttention: FusionMethod = {
  tfjs: ({ ps, M, d }) => {
    const att = tokenAttention(ps, 'fusion.post', d);
    return {
      outDim: M * d,
      apply: (h, mask) => {
        const B = h.shape[0];
        const valid = tf.mul(tf.expandDims(mask, 2), tf.expandDims(mask, 1)).reshape([B, M, M]) as import('@tensorflow/tfjs').Tensor3D;
        return flattenTokens(maskTokens(attendTokens(att, maskTokens(h, mask), valid), mask));
      },
    };
  },
  plain: ({ w, d }) => {
    const qkv = plainTokenAttention(w, 'fusion.post', d);
    return (h, mask) => plainMaskedConcat(plainAttendTokens(qkv, h, (m, j) => mask[m] * mask[j]), mask);
  },
};
