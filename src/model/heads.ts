/**
 * The K regression heads with a sigmoid (labels are scaled to [0,1]): one shared linear map
 * d → K, or (multi-output) a ReLU tower of width h per task: ŷ_k = σ(w₂,kᵀ ReLU(W₁,k P) + b₂,k).
 * With an offset (the person-mean anchor, issue 16) ŷ_k = σ(offset_k + head_k(P)), and the heads'
 * last layer starts at zero so the untrained model predicts the offset.
 */
import { tf } from './backend.js';
import { applyDense, dense, linearInit, plainDense, zerosInit, type Dense, type ParamStore, type PlainParams, type T2 } from './nn.js';

export interface Heads { shared: Dense | null; tower1: Dense | null; tower2: tf.Variable | null; b2: tf.Variable | null; K: number; h: number }

export function heads(ps: ParamStore, d: number, K: number, towers: boolean, h = 16, zeroLast = false): Heads {
  if (!towers) {
    const shared = zeroLast ? { w: ps.add('heads.w', [d, K], zerosInit), b: ps.add('heads.b', [K], zerosInit), din: d, dout: K } : dense(ps, 'heads', d, K);
    return { shared, tower1: null, tower2: null, b2: null, K, h };
  }
  return {
    shared: null, tower1: dense(ps, 'heads.tower1', d, K * h),
    tower2: ps.add('heads.tower2.w', [K, h], zeroLast ? zerosInit : linearInit(h)), b2: ps.add('heads.tower2.b', [K], zeroLast ? zerosInit : linearInit(h)), K, h,
  };
}

/** ŷ [B, K] in (0,1); `offset` [B, K] is added to the logits (the person-mean anchor). */
export function applyHeads(p: Heads, x: T2, offset?: tf.Tensor): T2 {
  const withOffset = (z: tf.Tensor) => tf.sigmoid(offset ? tf.add(z, offset) : z) as T2;
  if (p.shared) return withOffset(applyDense(p.shared, x));
  const B = x.shape[0];
  const z = applyDense(p.tower1!, x, 'relu').reshape([B, p.K, p.h]);
  return withOffset(tf.add(tf.sum(tf.mul(z, p.tower2!), 2), p.b2!));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The same on one instance's plain arrays: P [d] (and the offset [K], or null) → ŷ [K]. */
export function plainHeads(w: PlainParams, d: number, K: number): (p: Float32Array, offset: Float32Array | null) => Float32Array {
  if (w.has('heads.w')) {
    const shared = w.dense('heads', d, K);
    return (p, offset) => plainDense(shared, p).map((z, k) => sigmoid(z + (offset ? offset[k] : 0)));
  }
  const w2 = w.get('heads.tower2.w'), b2 = w.get('heads.tower2.b'), h = w2.length / K;
  const tower1 = w.dense('heads.tower1', d, K * h);
  return (p, offset) => {
    const z = plainDense(tower1, p, true), y = new Float32Array(K);
    for (let k = 0; k < K; k++) {
      let s = b2[k];
      for (let j = 0; j < h; j++) s += z[k * h + j] * w2[k * h + j];
      y[k] = sigmoid(s + (offset ? offset[k] : 0));
    }
    return y;
  };
}
