/**
 * Adapters (Houlsby et al. 2019) per user on top of the shared macro space: a bottleneck
 * residual module P_u = E + Up_u ReLU(Down_u E), the up-projection initialised near 0 so every
 * user starts at the shared model. Unseen user: the adapter is skipped (P = E_macro).
 */
import { tf } from '../backend.js';
import { applyMacro, macroSpace, plainMacro } from '../macro.js';
import type { PersonalizationMethod } from './types.js';
import { applyUserFfnn, plainUserFfnn, userFfnn, userFfnnTables } from './micro.js';

export const adapter: PersonalizationMethod = {
  tfjs: ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
    const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
    const ad = userFfnn('user.adapter', users, d, opts.adapterBottleneck, rng, 0.01);
    return {
      tables: userFfnnTables(ad), macroPath: true,
      apply: (fused, h, mask, ub, known) => {
        const e = applyMacro(macro, fused, h, mask);
        return tf.add(e, tf.mul(applyUserFfnn(ad, e, ub), known));
      },
    };
  },
  plain: ({ w, M, d, fusedDim, heads }) => {
    const macro = plainMacro(w, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
    const ad = plainUserFfnn('user.adapter', d);
    return (fused, h, mask, user, known) => {
      const e = macro(fused, h, mask);
      if (!known) return e;
      const a = ad(e, user);
      for (let i = 0; i < d; i++) a[i] += e[i];
      return a;
    };
  },
};
