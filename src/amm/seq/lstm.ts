/**
 * Long short-term memory (Hochreiter & Schmidhuber 1997), masked for variable lengths.
 *
 *   [i, f, g, o] = x_t W + h_{t−1} U + b
 *   c̃_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g);   h̃_t = σ(o) ⊙ tanh(c̃_t)
 *   (c_t, h_t) = m_t · (c̃_t, h̃_t) + (1 − m_t) · (c_{t−1}, h_{t−1})
 *
 * The forget-gate bias starts at `forgetBias` (0 in AMM, whose biases are all 0).
 * Several LSTMs (e.g. one per task in AMM) run in lock-step as one batched recurrence.
 */
import { tf } from '../../model/backend.js';
import type { SeqParams } from './params.js';
import { unstack } from './mask.js';

export interface LstmParams { wx: tf.Variable; wh: tf.Variable; b: tf.Variable; hidden: number }

export function lstmParams(store: SeqParams, name: string, inDim: number, hidden: number, forgetBias = 0): LstmParams {
  const b = store.bias(`${name}.b`, [4 * hidden]);
  if (forgetBias !== 0) {
    const v = new Float32Array(4 * hidden);
    v.fill(forgetBias, hidden, 2 * hidden);
    b.assign(tf.tensor1d(v));
  }
  return { wx: store.weight(`${name}.wx`, [inDim, 4 * hidden]), wh: store.weight(`${name}.wh`, [hidden, 4 * hidden]), b, hidden };
}

/**
 * D LSTMs in lock-step over inputs xs[k]: [B, T, F_k] with one shared mask [B, T].
 * Returns the hidden states [B, T, d] of each (zero at padded steps).
 */
export function lstmMany(ps: LstmParams[], xs: tf.Tensor3D[], mask: tf.Tensor2D): tf.Tensor3D[] {
  const D = ps.length;
  const d = ps[0].hidden;
  if (ps.some((p) => p.hidden !== d)) throw new Error('lstmMany: all LSTMs must share one hidden width');
  const [B, T] = mask.shape;
  const xp = tf.stack(xs.map((x, k) => tf.matMul(x.reshape([B * T, x.shape[2]]), ps[k].wx).add(ps[k].b).reshape([B, T, 4 * d])));
  const wh = tf.stack(ps.map((p) => p.wh)) as tf.Tensor3D;
  const xsT = unstack(xp, 2);
  const msT = unstack(mask.expandDims(2), 1).map((mt) => mt.expandDims(0)); // T × [1, B, 1]
  let h = tf.zeros([D, B, d]) as tf.Tensor3D;
  let c = tf.zeros([D, B, d]) as tf.Tensor3D;
  const out: tf.Tensor3D[] = [];
  for (let t = 0; t < T; t++) {
    const a = xsT[t].add(tf.matMul(h, wh));
    const ifo = tf.sigmoid(a.slice([0, 0, 0], [D, B, 2 * d]));
    const i = ifo.slice([0, 0, 0], [D, B, d]);
    const f = ifo.slice([0, 0, d], [D, B, d]);
    const g = tf.tanh(a.slice([0, 0, 2 * d], [D, B, d]));
    const o = tf.sigmoid(a.slice([0, 0, 3 * d], [D, B, d]));
    const cNew = f.mul(c).add(i.mul(g));
    const hNew = o.mul(tf.tanh(cNew));
    c = c.add(msT[t].mul(cNew.sub(c))) as tf.Tensor3D;
    h = h.add(msT[t].mul(hNew.sub(h))) as tf.Tensor3D;
    out.push(h.mul(msT[t]) as tf.Tensor3D);
  }
  return unstack(tf.stack(out, 2), 0) as tf.Tensor3D[];
}

export function lstm(p: LstmParams, x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  return lstmMany([p], [x], mask)[0];
}

/** The last valid state of each sequence, [B, d] (padding keeps the state, so it is the state at step T−1). */
export function lastState(H: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  // The output at padded steps is zeroed; the state itself carries through, so recover it as
  // Σ_t H_t · (m_t − m_{t+1}) (1 only at the last valid step of right-padded masks).
  return tf.tidy(() => {
    const [B, T] = mask.shape;
    const next = tf.concat([mask.slice([0, 1], [B, T - 1]), tf.zeros([B, 1])], 1);
    const lastOne = mask.sub(next).expandDims(2);
    return H.mul(lastOne).sum(1) as tf.Tensor2D;
  });
}
