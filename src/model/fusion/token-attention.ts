/** Single-head scaled dot-product attention among the modality tokens (shared by two fusions). */
import { tf } from '../backend.js';
import { dense, applyDense, maskedSoftmax, type ParamStore, type T2, type T3, type Dense } from '../nn.js';

export interface TokenAttention { qkv: Dense; d: number }
export function tokenAttention(ps: ParamStore, name: string, d: number): TokenAttention {
  return { qkv: dense(ps, `${name}.qkv`, d, 3 * d), d };
}

/** out_m = h_m + Σ_j valid[m,j]·softmax_j(q_m·k_j/√d) v_j;  valid: [B, M, M]. */
export function attendTokens(p: TokenAttention, h: T3, valid: tf.Tensor3D): T3 {
  const [B, M, d] = h.shape;
  const qkv = applyDense(p.qkv, h.reshape([B * M, d]) as T2).reshape([B, M, 3, d]);
  const [q, k, v] = tf.unstack(tf.transpose(qkv, [2, 0, 1, 3]), 0) as T3[];
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
  return tf.add(h, tf.matMul(maskedSoftmax(scores, valid), v)) as T3;
}
