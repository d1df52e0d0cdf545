/**
 * The K regression heads with a sigmoid (labels are scaled to [0,1]): one shared linear map
 * d → K, or (multi-output) a ReLU tower of width h per task: ŷ_k = σ(w₂,kᵀ ReLU(W₁,k P) + b₂,k).
 */
import { tf } from './backend.js';
import { applyDense, dense, linearInit, type Dense, type ParamStore, type T2 } from './nn.js';

export interface Heads { shared: Dense | null; tower1: Dense | null; tower2: tf.Variable | null; b2: tf.Variable | null; K: number; h: number }

export function heads(ps: ParamStore, d: number, K: number, towers: boolean, h = 16): Heads {
  if (!towers) return { shared: dense(ps, 'heads', d, K), tower1: null, tower2: null, b2: null, K, h };
  return {
    shared: null, tower1: dense(ps, 'heads.tower1', d, K * h),
    tower2: ps.add('heads.tower2.w', [K, h], linearInit(h)), b2: ps.add('heads.tower2.b', [K], linearInit(h)), K, h,
  };
}

export function applyHeads(p: Heads, x: T2): T2 {
  if (p.shared) return tf.sigmoid(applyDense(p.shared, x));
  const B = x.shape[0];
  const z = applyDense(p.tower1!, x, 'relu').reshape([B, p.K, p.h]);
  return tf.sigmoid(tf.add(tf.sum(tf.mul(z, p.tower2!), 2), p.b2!)) as T2;
}
