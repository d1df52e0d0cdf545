/** No personalisation: one shared network; P = E_macro (emotion FFNN → transformer). */
import { applyMacro, macroSpace, plainMacro } from '../macro.js';
import type { PersonalizationMethod } from './types.js';

export const none: PersonalizationMethod = {
  tfjs: ({ ps, M, d, fusedDim, heads }) => {
    const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
    return { tables: [], macroPath: true, apply: (fused, h, mask) => applyMacro(macro, fused, h, mask) };
  },
  plain: ({ w, M, d, fusedDim, heads }) => plainMacro(w, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true }),
};
