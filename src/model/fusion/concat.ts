/** Basic concatenation (MM's benchmark): fused = [m₁h₁; …; m_M h_M], width M·d. */
import type { FusionFactory } from './types.js';
import { flattenTokens, maskTokens } from './util.js';

export const concat: FusionFactory = ({ M, d }) => ({
  outDim: M * d,
  apply: (h, mask) => flattenTokens(maskTokens(h, mask)),
});
