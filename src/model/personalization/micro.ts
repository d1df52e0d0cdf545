/**
 * A per-user 2-layer FFNN d → h → d from UserTables: E_u = W₂,u ReLU(W₁,u x + b₁,u) + b₂,u,
 * evaluated as batched [B,1,d]×[B,d,h] products over the batch's per-sample rows.
 */
import { tf } from '../backend.js';
import { customOp, linearInit, plainDense, transposed, type T2 } from '../nn.js';
import { UserTable, type UserBatch } from '../user-table.js';
import type { Rng } from '../../util/random.js';
import type { PersonalizationMethod, UserRows } from './types.js';
import { applyMacro, macroSpace, plainMacro } from '../macro.js';

export interface UserFfnn { w1: UserTable; b1: UserTable; w2: UserTable; b2: UserTable; d: number; h: number }

export function userFfnn(name: string, users: number, d: number, h: number, rng: Rng, outScale = 1): UserFfnn {
  const scaled = (fanIn: number) => (r: Rng, n: number) => { const x = linearInit(fanIn)(r, n); for (let i = 0; i < n; i++) x[i] *= outScale; return x; };
  return {
    w1: new UserTable(`${name}.w1`, [d, h], users, linearInit(d), rng),
    b1: new UserTable(`${name}.b1`, [h], users, linearInit(d), rng),
    w2: new UserTable(`${name}.w2`, [h, d], users, scaled(h), rng),
    b2: new UserTable(`${name}.b2`, [d], users, scaled(h), rng),
    d, h,
  };
}

export function userFfnnTables(f: UserFfnn): UserTable[] { return [f.w1, f.b1, f.w2, f.b2]; }

export function applyUserFfnn(f: UserFfnn, x: T2, ub: UserBatch): T2 {
  return userFfnnOp(x, ub.take(f.w1), ub.take(f.b1), ub.take(f.w2), ub.take(f.b2)) as T2;
}

/**
 * out_b = W₂,b ReLU(W₁,b x_b + b₁,b) + b₂,b per sample, as broadcast products summed over the input
 * axis (cheaper in wasm than B batched [1×d]·[d×h] matmuls), with a hand-written backward pass:
 * 8 kernels instead of the ~40 (with their tape entries) that autodiff of the broadcasts records.
 *   dW₂ = h ⊗ dy, dh = W₂·dy, dz = dh ⊙ [h > 0], dW₁ = x ⊗ dz, dx = W₁·dz, db₁ = dz, db₂ = dy.
 */
const userFfnnOp = customOp((x: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, save: tf.GradSaveFunc) => {
  const [B, d] = x.shape, h = b1.shape[1]!;
  const hdn = tf.relu(tf.add(tf.sum(tf.mul(x.reshape([B, d, 1]), w1), 1), b1));
  const value = tf.add(tf.sum(tf.mul(hdn.reshape([B, h, 1]), w2), 1), b2);
  save([x, w1, w2, hdn]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, w1s, w2s, hs] = saved;
      const dy3 = dy.reshape([B, 1, d]);
      const dw2 = tf.mul(hs.reshape([B, h, 1]), dy3);
      const dz = tf.mul(tf.sum(tf.mul(w2s, dy3), 2), tf.step(hs));
      const dz3 = dz.reshape([B, 1, h]);
      return [tf.sum(tf.mul(w1s, dz3), 2), tf.mul(xs.reshape([B, d, 1]), dz3), dz, dw2, dy];
    },
  };
});

/** Transposed copies of per-user weight rows, kept as long as the row itself (a refit gives a new row). */
const transposedRows = new WeakMap<Float32Array, Float32Array>();
function transposedRow(w: Float32Array, din: number, dout: number): Float32Array {
  let t = transposedRows.get(w);
  if (!t) { t = transposed(w, din, dout); transposedRows.set(w, t); }
  return t;
}

/** The same on one instance's plain arrays, with the participant's rows of tables `${name}.w1/b1/w2/b2`. */
export function plainUserFfnn(name: string, d: number): (x: Float32Array, user: UserRows) => Float32Array {
  return (x, user) => {
    const b1 = user(`${name}.b1`), h = b1.length;
    const hid = plainDense({ wt: transposedRow(user(`${name}.w1`), d, h), b: b1, din: d, dout: h }, x, true);
    return plainDense({ wt: transposedRow(user(`${name}.w2`), h, d), b: user(`${name}.b2`), din: h, dout: d }, hid);
  };
}

/**
 * P_u = FFNN_u(E) on the macro space E with the tables `user.ffnn.*`, without a macro-only path
 * (an unseen user gets the mean of the users' layers): the per-user FFNN baseline and the
 * transformer variant, which differ only in their macro space.
 */
export function userFfnnOnMacro(space: { emotionFfnn: boolean; transformer: boolean }): PersonalizationMethod {
  return {
    tfjs: ({ ps, rng, users, M, d, fusedDim, heads, opts }) => {
      const macro = macroSpace(ps, { fusedDim, d, M, heads, ...space });
      const micro = userFfnn('user.ffnn', users, d, opts.microHidden, rng);
      return {
        tables: userFfnnTables(micro), macroPath: false,
        apply: (fused, h, mask, ub) => applyUserFfnn(micro, applyMacro(macro, fused, h, mask), ub),
      };
    },
    plain: ({ w, M, d, fusedDim, heads }) => {
      const macro = plainMacro(w, { fusedDim, d, M, heads, ...space });
      const micro = plainUserFfnn('user.ffnn', d);
      return (fused, h, mask, user) => micro(macro(fused, h, mask), user);
    },
  };
}
