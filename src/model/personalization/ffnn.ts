/**
 * Basic per-user FFNN (MM's benchmark personalisation): a shared emotion FFNN, then each user's
 * own 2-layer FFNN: P_u = FFNN_u(FFNN_emotion(fused)). No macro-only path: an unseen user gets
 * the mean of the users' layers.
 */
import { applyMacro, macroSpace } from '../macro.js';
import type { PersonalizationFactory } from './types.js';
import { applyUserFfnn, userFfnn, userFfnnTables } from './micro.js';

export const ffnn: PersonalizationFactory = ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
  const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: true, transformer: false });
  const micro = userFfnn('user.ffnn', users, d, opts.microHidden, rng);
  return {
    tables: userFfnnTables(micro), macroPath: false,
    apply: (fused, h, mask, ub) => applyUserFfnn(micro, applyMacro(macro, fused, h, mask), ub),
  };
};
