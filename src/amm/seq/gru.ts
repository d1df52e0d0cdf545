/**
 * Gated recurrent unit (Cho et al. 2014), masked for variable lengths, written as plain
 * functions over tf variables (tf.layers cells do not take a per-step mask on this backend).
 *
 *   z_t = σ(x_t W_z + h_{t−1} U_z + b_z)          update gate
 *   r_t = σ(x_t W_r + h_{t−1} U_r + b_r)          reset gate
 *   ñ_t = tanh(x_t W_n + r_t ⊙ (h_{t−1} U_n) + b_n)
 *   h̃_t = (1 − z_t) ⊙ ñ_t + z_t ⊙ h_{t−1}
 *   h_t = m_t · h̃_t + (1 − m_t) · h_{t−1}         (padding keeps the state)
 *
 * Outputs are zero at padded steps. Several GRUs (directions, modalities) run in lock-step as
 * one batched recurrence (`gruMany`): on tfjs-wasm each op costs ~0.1 ms of overhead whatever
 * its size, so one batched step is nearly as cheap as one small one.
 * The backward direction of a BiGRU runs over the time-reversed sequence: padding then comes
 * first and, masked, leaves the state at 0 until the last valid step — no gather is needed.
 */
import { tf } from '../../model/backend.js';
import type { SeqParams } from './params.js';
import { reverseTime, unstack } from './mask.js';

export interface GruParams { wx: tf.Variable; wh: tf.Variable; b: tf.Variable; hidden: number }

export function gruParams(store: SeqParams, name: string, inDim: number, hidden: number): GruParams {
  return {
    wx: store.weight(`${name}.wx`, [inDim, 3 * hidden]),
    wh: store.weight(`${name}.wh`, [hidden, 3 * hidden]),
    b: store.bias(`${name}.b`, [3 * hidden]),
    hidden,
  };
}

/** Pad [B, T, F] (or [B, T]) with zeros in time to T2 ≥ T steps. */
function padTime<T extends tf.Tensor>(x: T, T2: number): T {
  const T1 = x.shape[1] as number;
  if (T1 === T2) return x;
  const pads: Array<[number, number]> = x.shape.map((_, i) => (i === 1 ? [0, T2 - T1] : [0, 0])) as Array<[number, number]>;
  return tf.pad(x, pads) as T;
}

/**
 * Run D GRUs in lock-step. xs[k]: [B, T_k, F_k]; masks[k]: [B, T_k]; all share B and one hidden
 * width. Returns the hidden states [B, T_k, d] of each (zero at padded steps).
 */
export function gruMany(ps: GruParams[], xs: tf.Tensor3D[], masks: tf.Tensor2D[]): tf.Tensor3D[] {
  const D = ps.length;
  const d = ps[0].hidden;
  if (ps.some((p) => p.hidden !== d)) throw new Error('gruMany: all GRUs must share one hidden width');
  const B = xs[0].shape[0];
  const T = Math.max(...xs.map((x) => x.shape[1]));
  // Input projections for all steps at once: [D, B, T, 3d].
  const xp = tf.stack(xs.map((x, k) => {
    const [, Tk, F] = x.shape;
    const proj = tf.matMul(x.reshape([B * Tk, F]), ps[k].wx).add(ps[k].b).reshape([B, Tk, 3 * d]);
    return padTime(proj, T);
  }));
  const m = tf.stack(masks.map((mk) => padTime(mk, T))).expandDims(3); // [D, B, T, 1]
  const wh = tf.stack(ps.map((p) => p.wh)) as tf.Tensor3D; // [D, d, 3d]
  const xsT = unstack(xp, 2); // T × [D, B, 3d]
  const msT = unstack(m, 2); // T × [D, B, 1]
  let h = tf.zeros([D, B, d]) as tf.Tensor3D;
  const out: tf.Tensor3D[] = [];
  for (let t = 0; t < T; t++) {
    const hu = tf.matMul(h, wh); // [D, B, 3d]
    const x = xsT[t];
    const zr = tf.sigmoid(x.slice([0, 0, 0], [D, B, 2 * d]).add(hu.slice([0, 0, 0], [D, B, 2 * d])));
    const z = zr.slice([0, 0, 0], [D, B, d]);
    const r = zr.slice([0, 0, d], [D, B, d]);
    const n = tf.tanh(x.slice([0, 0, 2 * d], [D, B, d]).add(r.mul(hu.slice([0, 0, 2 * d], [D, B, d]))));
    const hNew = n.add(z.mul(h.sub(n))); // (1−z)ñ + z h
    h = h.add(msT[t].mul(hNew.sub(h))) as tf.Tensor3D;
    out.push(h.mul(msT[t]) as tf.Tensor3D);
  }
  const H = tf.stack(out, 2); // [D, B, T, d]
  return unstack(H, 0).map((Hk, k) => Hk.slice([0, 0, 0], [B, xs[k].shape[1], d]) as tf.Tensor3D);
}

/** One masked GRU: [B, T, F] → [B, T, d]. */
export function gru(p: GruParams, x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  return gruMany([p], [x], [mask])[0];
}

export interface BiGruParams { fwd: GruParams; bwd: GruParams }

export function biGruParams(store: SeqParams, name: string, inDim: number, hidden: number): BiGruParams {
  return { fwd: gruParams(store, `${name}.fwd`, inDim, hidden), bwd: gruParams(store, `${name}.bwd`, inDim, hidden) };
}

/**
 * Several bidirectional GRUs in one recurrence: H_k = [→h_t ; ←h_t], [B, T_k, 2d] each.
 * Inputs must be zero at padded steps.
 */
export function biGruMany(ps: BiGruParams[], xs: tf.Tensor3D[], masks: tf.Tensor2D[]): tf.Tensor3D[] {
  const all = gruMany(
    [...ps.map((p) => p.fwd), ...ps.map((p) => p.bwd)],
    [...xs, ...xs.map((x) => reverseTime(x))],
    [...masks, ...masks.map((m) => reverseTime(m))],
  );
  const K = ps.length;
  return ps.map((_, k) => tf.concat([all[k], reverseTime(all[K + k])], 2) as tf.Tensor3D);
}

export function biGru(p: BiGruParams, x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
  return biGruMany([p], [x], [mask])[0];
}
