/** Basic concatenation (MM's benchmark): fused = [m₁h₁; …; m_M h_M], width M·d. */
import type { FusionMethod } from './types.js';
import { flattenTokens, maskTokens, plainMaskedConcat } from './util.js';

export const concat: FusionMethod = {
  tfjs: ({ M, d }) => ({
    outDim: M * d,
    apply: (h, mask) => flattenTokens(maskTokens(h, mask)),
  }),
  plain: () => plainMaskedConcat,
};
