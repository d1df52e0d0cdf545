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

/** The plain twin of flattenTokens(maskTokens(h, mask)): [m₁h₁; …; m_M h_M]. */
export function plainMaskedConcat(h: Float32Array[], mask: ArrayLike<number>): Float32Array {
  const d = h[0].length, out = new Float32Array(h.length * d);
  h.forEach((hm, m) => { for (let i = 0; i < d; i++) out[m * d + i] = hm[i] * mask[m]; });
  return out;
}

/** h_m read as C tokens of width d/C (the chunks of solo-attention and separate-transformer). */
export function chunks(hm: Float32Array, C: number): Float32Array[] {
  const dc = hm.length / C;
  return Array.from({ length: C }, (_, c) => hm.subarray(c * dc, (c + 1) * dc));
}

/** Width d/C of a chunk (an error when d is not a multiple of C). */
export function chunkWidth(method: string, d: number, C: number): number {
  const dc = d / C;
  if (!Number.isInteger(dc)) throw new Error(`${method}: width ${d} not divisible by ${C} chunks`);
  return dc;
}
