/**
 * Attention parts of AMM (seed 002).
 *
 * Additive attention pooling (Eq. 2):  D = tanh(W_d H + b_d);  α = softmax(wᵀ D) over the valid
 * steps;  h = Σ_t α_t H_t.
 *
 * Multi-head cross-attention (Eq. 3–4, after the Multimodal Transformer):
 *   M_μ = softmax(Q_μ K_μᵀ / √d_k) V_μ,  Q_μ = X_q W_μ^Q,  K_μ = X_kv W_μ^K,  V_μ = X_kv W_μ^V,
 * heads μ = 1…H concatenated: [M_1, …, M_H].
 */
import { tf } from '../../model/backend.js';
import type { SeqParams } from './params.js';
import { maskedSoftmax } from '../../model/nn.js';

export interface AttentionPoolParams { wd: tf.Variable; bd: tf.Variable; w: tf.Variable }

export function attentionPoolParams(store: SeqParams, name: string, inDim: number, attDim = inDim): AttentionPoolParams {
  return { wd: store.weight(`${name}.wd`, [inDim, attDim]), bd: store.bias(`${name}.bd`, [attDim]), w: store.weight(`${name}.w`, [attDim, 1]) };
}

/** H: [B, T, d], mask: [B, T] → h: [B, d] and the weights α: [B, T]. */
export function attentionPool(p: AttentionPoolParams, H: tf.Tensor3D, mask: tf.Tensor2D): { h: tf.Tensor2D; alpha: tf.Tensor2D } {
  const [B, T, d] = H.shape;
  const D = tf.tanh(tf.matMul(H.reshape([B * T, d]), p.wd).add(p.bd));
  const scores = tf.matMul(D, p.w).reshape([B, T]);
  const alpha = maskedSoftmax(scores, mask) as tf.Tensor2D;
  const h = alpha.expandDims(2).mul(H).sum(1) as tf.Tensor2D;
  return { h, alpha };
}

export interface CrossAttentionParams {
  wq: tf.Variable; wk: tf.Variable; wv: tf.Variable;
  heads: number; keyDim: number; valueDim: number;
}

/**
 * Parameters of an H-head cross-attention from queries of width qDim to keys/values of width
 * kvDim; each head has keyDim and valueDim (defaults: ⌈qDim/H⌉ and ⌈kvDim/H⌉).
 */
export function crossAttentionParams(
  store: SeqParams, name: string, qDim: number, kvDim: number, heads = 8,
  keyDim = Math.max(1, Math.ceil(qDim / heads)), valueDim = Math.max(1, Math.ceil(kvDim / heads)),
): CrossAttentionParams {
  return {
    wq: store.weight(`${name}.wq`, [qDim, heads * keyDim]),
    wk: store.weight(`${name}.wk`, [kvDim, heads * keyDim]),
    wv: store.weight(`${name}.wv`, [kvDim, heads * valueDim]),
    heads, keyDim, valueDim,
  };
}

/**
 * query: [B, Tq, qDim]; keyValue: [B, Tk, kvDim]; keyMask: [B, Tk] (1 = valid key).
 * Returns the per-head outputs [B, H, Tq, valueDim] and their concatenation [B, Tq, H·valueDim].
 */
export function crossAttention(p: CrossAttentionParams, query: tf.Tensor3D, keyValue: tf.Tensor3D, keyMask: tf.Tensor2D):
  { heads: tf.Tensor4D; out: tf.Tensor3D; alpha: tf.Tensor4D } {
  const [B, Tq, qDim] = query.shape;
  const [, Tk, kvDim] = keyValue.shape;
  const H = p.heads, dk = p.keyDim, dv = p.valueDim;
  const split = (x: tf.Tensor2D, T: number, w: number) => x.reshape([B, T, H, w]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  const Q = split(tf.matMul(query.reshape([B * Tq, qDim]), p.wq), Tq, dk);
  const kv = keyValue.reshape([B * Tk, kvDim]);
  const K = split(tf.matMul(kv, p.wk), Tk, dk);
  const V = split(tf.matMul(kv, p.wv), Tk, dv);
  const scores = tf.matMul(Q, K, false, true).div(Math.sqrt(dk)); // [B, H, Tq, Tk]
  const alpha = maskedSoftmax(scores, keyMask.reshape([B, 1, 1, Tk])) as tf.Tensor4D;
  const heads = tf.matMul(alpha, V) as tf.Tensor4D; // [B, H, Tq, dv]
  const out = heads.transpose([0, 2, 1, 3]).reshape([B, Tq, H * dv]) as tf.Tensor3D;
  return { heads, out, alpha };
}
