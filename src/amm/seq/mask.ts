/**
 * Masks for variable-length sequences. A batch of sequences is right-padded to T steps;
 * mask[b, t] = 1 for the valid steps t < length[b], 0 for padding (masked softmax: nn.ts). Browser-safe.
 */
import { tf } from '../../model/backend.js';

/** [B, T] mask from per-sequence lengths. */
export function lengthMask(lengths: ArrayLike<number>, T: number): tf.Tensor2D {
  const B = lengths.length;
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < Math.min(T, lengths[b]); t++) m[b * T + t] = 1;
  return tf.tensor2d(m, [B, T]);
}

/** Reverse each sequence in time along axis 1 (padding moves to the front). */
export function reverseTime<T extends tf.Tensor>(x: T): T { return tf.reverse(x, 1) as T; }

/**
 * tf.unstack, except that an axis of size 1 becomes a squeeze: the gradient of unstack into a
 * single tensor fails in tfjs 4.22 ("Argument tensors passed to stack must be a Tensor[]").
 */
export function unstack(x: tf.Tensor, axis: number): tf.Tensor[] {
  return x.shape[axis] === 1 ? [tf.squeeze(x, [axis])] : tf.unstack(x, axis);
}
