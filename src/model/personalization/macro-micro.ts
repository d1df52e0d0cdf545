/**
 * Macro-micro personalisation (MM, proposed):
 *   E_macro = Transformer(FFNN_emotion(fused), modality tokens)        shared by all users
 *   E_micro,u = FFNN_u(E_macro)                                         one small FFNN per user
 *   P_u = λ·E_macro + (1−λ)·E_micro,u                                   λ fixed, or learned (global / per user)
 * A user not seen in training (known = 0) gets the macro path alone: P = E_macro.
 */
import { tf } from '../backend.js';
import { applyMacro, macroSpace, plainMacro } from '../macro.js';
import { constInit, type T2 } from '../nn.js';
import { UserTable } from '../user-table.js';
import type { PersonalizationMethod } from './types.js';
import { applyUserFfnn, plainUserFfnn, userFfnn, userFfnnTables } from './micro.js';

const logit = (p: number) => Math.log(Math.max(p, 1e-4) / Math.max(1 - p, 1e-4));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export const macroMicro: PersonalizationMethod = {
  tfjs: ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
    const macro = macroSpace(ps, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
    const micro = userFfnn('user.micro', users, d, opts.microHidden, rng);
    const globalLambda = opts.learnLambda === 'global' ? ps.add('lambda.logit', [1], constInit(logit(opts.lambda))) : null;
    const userLambda = opts.learnLambda === 'per-user' ? new UserTable('user.lambda', [1], users, constInit(logit(opts.lambda)), rng) : null;
    const lambda = (ub: Parameters<typeof applyUserFfnn>[2]): tf.Tensor =>
      globalLambda ? tf.sigmoid(globalLambda) : userLambda ? tf.sigmoid(ub.take(userLambda)) : tf.scalar(opts.lambda);
    return {
      tables: [...userFfnnTables(micro), ...(userLambda ? [userLambda] : [])],
      macroPath: true,
      apply: (fused, h, mask, ub, known) => {
        const eMacro = applyMacro(macro, fused, h, mask);
        const eMicro = applyUserFfnn(micro, eMacro, ub);
        const lam = tf.add(tf.mul(lambda(ub), known), tf.sub(1, known)); // unknown user → λ = 1
        return tf.add(tf.mul(lam, eMacro), tf.mul(tf.sub(1, lam), eMicro)) as T2;
      },
      report: () => ({
        lambda: globalLambda ? [sigmoid(globalLambda.dataSync()[0])]
          : userLambda ? Array.from(userLambda.data, sigmoid) : [opts.lambda],
      }),
    };
  },
  plain: ({ w, M, d, fusedDim, heads, opts }) => {
    const macro = plainMacro(w, { fusedDim, d, M, heads, emotionFfnn: true, transformer: true });
    const micro = plainUserFfnn('user.micro', d);
    const globalLambda = opts.learnLambda === 'global' ? sigmoid(w.get('lambda.logit')[0]) : null;
    return (fused, h, mask, user, known) => {
      const eMacro = macro(fused, h, mask);
      if (!known) return eMacro; // λ = 1 for a participant without a micro layer
      const eMicro = micro(eMacro, user);
      const lam = globalLambda ?? (opts.learnLambda === 'per-user' ? sigmoid(user('user.lambda')[0]) : opts.lambda);
      const out = new Float32Array(d);
      for (let i = 0; i < d; i++) out[i] = lam * eMacro[i] + (1 - lam) * eMicro[i];
      return out;
    };
  },
};
