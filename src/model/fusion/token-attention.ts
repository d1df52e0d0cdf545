/** Single-head scaled dot-product attention among the modality tokens (shared by three fusions). */
import { tf } from '../backend.js';
import { dense, applyDense, maskedSoftmax, plainDense, plainMaskedSoftmax, type ParamStore, type PlainDense, type PlainParams, type T2, type T3, type Dense } from '../nn.js';

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

/** The plain twin: the layer `${name}.qkv`. */
export function plainTokenAttention(w: PlainParams, name: string, d: number): PlainDense {
  return w.dense(`${name}.qkv`, d, 3 * d);
}

/** attendTokens on one instance's tokens h[m] [d]; valid(m, j) as above. */
export function plainAttendTokens(qkv: PlainDense, h: Float32Array[], valid: (m: number, j: number) => number): Float32Array[] {
  const M = h.length, d = h[0].length, scale = 1 / Math.sqrt(d);
  const t = h.map((x) => plainDense(qkv, x)); // [q | k | v]
  return h.map((x, m) => {
    const scores = new Float64Array(M), ok = new Float64Array(M);
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += t[m][i] * t[j][d + i];
      scores[j] = s * scale; ok[j] = valid(m, j);
    }
    const a = plainMaskedSoftmax(scores, ok), out = Float32Array.from(x);
    for (let j = 0; j < M; j++) { if (a[j] === 0) continue; for (let i = 0; i < d; i++) out[i] += a[j] * t[j][2 * d + i]; }
    return out;
  });
}
