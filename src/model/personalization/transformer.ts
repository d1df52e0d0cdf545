/**
 * Transformer without the emotion FFNN: the fused vector is projected to d and joins the
 * modality tokens in the shared transformer layer; each user's FFNN follows:
 * P_u = FFNN_u(Transformer(tokens)). Unseen user: mean of the users' layers.
 */
import { applyMacro, macroSpace } from '../macro.js';
import type { PersonalizationFactory } from './types.js';
import { applyUserFfnn, userFfnn, userFfnnTables } from './micro.js';

export const transformer: PersonalizationFactory = ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
  const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: false, transformer: true });
  const micro = userFfnn('user.ffnn', users, d, opts.microHidden, rng);
  return {
    tables: userFfnnTables(micro), macroPath: false,
    apply: (fused, h, mask, ub) => applyUserFfnn(micro, applyMacro(macro, fused, h, mask), ub),
  };
};
