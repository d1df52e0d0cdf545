/**
 * Macro-micro personalisation (MM, proposed):
 *   E_macro = Transformer(FFNN_emotion(fused), modality tokens)        shared by all users
 *   E_micro,u = FFNN_u(E_macro)                                         one small FFNN per user
 *   P_u = λ·E_macro + (1−λ)·E_micro,u                                   λ fixed, or learned (global / per user)
 * A user not seen in training (known = 0) gets the macro path alone: P = E_macro.
 */
import { tf } from '../backend.js';
import { applyMacro, macroSpace } from '../macro.js';
import { constInit, type T2 } from '../nn.js';
import { UserTable } from '../user-table.js';
import type { PersonalizationFactory } from './types.js';
import { applyUserFfnn, userFfnn, userFfnnTables } from './micro.js';

const logit = (p: number) => Math.log(Math.max(p, 1e-4) / Math.max(1 - p, 1e-4));

export const macroMicro: PersonalizationFactory = ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
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
      lambda: globalLambda ? [1 / (1 + Math.exp(-globalLambda.dataSync()[0]))]
        : userLambda ? Array.from(userLambda.data, (z) => 1 / (1 + Math.exp(-z))) : [opts.lambda],
    }),
  };
};
