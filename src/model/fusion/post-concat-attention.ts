/**
 * Post-concatenation attention: the modality vectors are concatenated into one sequence and a
 * self-attention layer (each token attends to every present token, itself included) re-weights
 * them before the flattened concatenation.
 */
import { tf } from '../backend.js';
import type { FusionFactory } from './types.js';
import { flattenTokens, maskTokens } from './util.js';
import { attendTokens, tokenAttention } from './token-attention.js';

export const postConcatAttention: FusionFactory = ({ ps, M, d }) => {
  const att = tokenAttention(ps, 'fusion.post', d);
  return {
    outDim: M * d,
    apply: (h, mask) => {
      const B = h.shape[0];
      const valid = tf.mul(tf.expandDims(mask, 2), tf.expandDims(mask, 1)).reshape([B, M, M]) as import('@tensorflow/tfjs').Tensor3D;
      return flattenTokens(maskTokens(attendTokens(att, maskTokens(h, mask), valid), mask));
    },
  };
};
