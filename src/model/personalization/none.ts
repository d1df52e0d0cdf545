/** No personalisation: one shared network; P = E_macro (emotion FFNN → transformer). */
import { applyMacro, macroSpace } from '../macro.js';
import type { PersonalizationFactory } from './types.js';

export const none: PersonalizationFactory = ({ ps, M, d, fusedDim, heads }) => {
  const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
  return { tables: [], macroPath: true, apply: (fused, h, mask) => applyMacro(macro, fused, h, mask) };
};
