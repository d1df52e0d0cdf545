/**
 * Per-task losses over the labelled samples of a batch only (items can be missing).
 * y, p, m: [B, K] (m = 1 where the label exists). Returns L [K] and valid [K] (n_k ≥ 2).
 *   1 − CCC: CCC_k = 2 cov(y,p) / (var y + var p + (μ_y − μ_p)²), population moments.
 *   MSE:     Σ_b m (y − p)² / n_k.
 */
import { tf } from './backend.js';
import type { T2 } from './nn.js';

export function taskLosses(kind: 'ccc' | 'mse', y: T2, p: T2, m: T2): { L: tf.Tensor1D; valid: tf.Tensor1D } {
  const n = tf.sum(m, 0);                                     // [K]
  const valid = tf.cast(tf.greaterEqual(n, 2), 'float32') as tf.Tensor1D;
  const nn = tf.maximum(n, 1);
  const y0 = tf.mul(y, m), p0 = tf.mul(p, m);
  if (kind === 'mse') return { L: tf.div(tf.sum(tf.square(tf.sub(y0, p0)), 0), nn) as tf.Tensor1D, valid };
  const my = tf.div(tf.sum(y0, 0), nn), mp = tf.div(tf.sum(p0, 0), nn);
  const dy = tf.mul(tf.sub(y, my), m), dp = tf.mul(tf.sub(p, mp), m);
  const vy = tf.div(tf.sum(tf.square(dy), 0), nn), vp = tf.div(tf.sum(tf.square(dp), 0), nn);
  const cov = tf.div(tf.sum(tf.mul(dy, dp), 0), nn);
  const ccc = tf.div(tf.mul(2, cov), tf.add(tf.add(tf.add(vy, vp), tf.square(tf.sub(my, mp))), 1e-8));
  return { L: tf.sub(1, ccc) as tf.Tensor1D, valid };
}
