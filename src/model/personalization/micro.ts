/**
 * A per-user 2-layer FFNN d → h → d from UserTables: E_u = W₂,u ReLU(W₁,u x + b₁,u) + b₂,u,
 * evaluated as batched [B,1,d]×[B,d,h] products over the batch's per-sample rows.
 */
import { tf } from '../backend.js';
import { linearInit, type T2 } from '../nn.js';
import { UserTable, type UserBatch } from '../user-table.js';
import type { Rng } from '../../util/random.js';

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
  // Per-sample x_b W_b as a broadcast product summed over the input axis: cheaper in wasm than
  // B batched [1×d]·[d×h] matmuls.
  const B = x.shape[0];
  const hdn = tf.relu(tf.add(tf.sum(tf.mul(x.reshape([B, f.d, 1]), ub.take(f.w1)), 1), ub.take(f.b1)));
  return tf.add(tf.sum(tf.mul(hdn.reshape([B, f.h, 1]), ub.take(f.w2)), 1), ub.take(f.b2)) as T2;
}
