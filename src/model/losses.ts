/**
 * Per-task losses over the labelled samples of a batch only (items can be missing).
 * y, p, m: [B, K] (m = 1 where the label exists). Returns L [K] and valid [K] (n_k ≥ 2).
 *   1 − CCC: CCC_k = 2 cov(y,p) / (var y + var p + (μ_y − μ_p)²), population moments.
 *   MSE:     Σ_b m (y − p)² / n_k.
 */
import { tf } from './backend.js';
import { customOp, type T2 } from './nn.js';

export function taskLosses(kind: 'ccc' | 'mse', y: T2, p: T2, m: T2): { L: tf.Tensor1D; valid: tf.Tensor1D } {
  const n = tf.sum(m, 0);                                     // [K]
  const valid = tf.cast(tf.greaterEqual(n, 2), 'float32') as tf.Tensor1D;
  const nn = tf.maximum(n, 1);
  if (kind === 'mse') {
    const y0 = tf.mul(y, m), p0 = tf.mul(p, m);
    return { L: tf.div(tf.sum(tf.square(tf.sub(y0, p0)), 0), nn) as tf.Tensor1D, valid };
  }
  return { L: cccLoss(y, m, nn)(p) as tf.Tensor1D, valid };
}

/**
 * 1 − CCC per task as one recorded op of p, with its gradient written out (m is 0/1):
 *   ∂L_k/∂p_i = (m_i/n)·[−2(y_i − μ_y)/D + (2 cov/D²)·(2(p_i − μ_p) − 2(μ_y − μ_p))],
 *   D = var y + var p + (μ_y − μ_p)² + 1e-8 — a dozen small kernels instead of ~60 taped ones.
 */
function cccLoss(y: T2, m: T2, nn: tf.Tensor) {
  return customOp((p: tf.Tensor, save: tf.GradSaveFunc) => {
    const y0 = tf.mul(y, m), p0 = tf.mul(p, m);
    const my = tf.div(tf.sum(y0, 0), nn), mp = tf.div(tf.sum(p0, 0), nn);
    const dy = tf.mul(tf.sub(y, my), m), dp = tf.mul(tf.sub(p, mp), m);
    const vy = tf.div(tf.sum(tf.square(dy), 0), nn), vp = tf.div(tf.sum(tf.square(dp), 0), nn);
    const cov = tf.div(tf.sum(tf.mul(dy, dp), 0), nn);
    const den = tf.add(tf.add(tf.add(vy, vp), tf.square(tf.sub(my, mp))), 1e-8);
    const ccc = tf.div(tf.mul(2, cov), den);
    save([dy, dp, tf.sub(my, mp), cov, den, m, nn]); // intermediates of the forward scope are gone by backward time
    return {
      value: tf.sub(1, ccc),
      gradFunc: (dL: tf.Tensor, saved: tf.Tensor[]) => {
        const [sdy, sdp, diff, scov, sden, sm, snn] = saved;
        const a = tf.div(tf.mul(-2, dL), sden);                                 // [K]
        const c = tf.div(tf.mul(tf.mul(2, scov), dL), tf.square(sden));         // [K]
        const inner = tf.add(tf.mul(sdy, a), tf.mul(tf.mul(2, tf.sub(sdp, diff)), c));
        return tf.div(tf.mul(inner, sm), snn);
      },
    };
  });
}
