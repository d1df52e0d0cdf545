/** Helpers shared by the fusion methods. */
import { tf } from '../backend.js';
import type { T2, T3 } from '../nn.js';

/** H with missing modalities zeroed: H ⊙ mask[..., None]. */
export function maskTokens(h: T3, mask: T2): T3 {
  return tf.mul(h, tf.expandDims(mask, 2)) as T3;
}

/** [B, M, d] → [B, M·d] (the masked concatenation). */
export function flattenTokens(h: T3): T2 {
  const [B, M, d] = h.shape;
  return h.reshape([B, M * d]) as T2;
}

/** Batched per-modality linear map: H [B,M,din] × W [M,din,dout] + b [M,dout] → [B,M,dout]. */
export function perModality(h: T3, w: tf.Tensor, b: tf.Tensor): T3 {
  const x = tf.transpose(h, [1, 0, 2]);            // [M,B,din]
  const y = tf.add(tf.matMul(x as tf.Tensor3D, w as tf.Tensor3D), tf.expandDims(b, 1)); // [M,B,dout]
  return tf.transpose(y, [1, 0, 2]) as T3;
}
