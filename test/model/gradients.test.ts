/**
 * Finite-difference checks of the custom parts: the per-user rows (sparse scatter-add path),
 * the DRUW loss and fusion restraint, the masked 1 − CCC, and the broadcast attention.
 */
import { describe, it, expect } from 'vitest';
import { tf } from '../../src/model/backend.js';
import { initNodeBackend } from '../../src/train/backend-node.js';
import { MoodModel } from '../../src/model/macro-micro.js';
import { makeConfig } from '../../src/model/config.js';
import { UserBatch } from '../../src/model/user-table.js';
import { taskLosses } from '../../src/model/losses.js';
import { ParamStore, encoderLayer, applyEncoder, applyEncoderAt } from '../../src/model/nn.js';
import { Rng } from '../../src/util/random.js';

await initNodeBackend();

/** Central difference of f at x[i] (float32: eps 1e-2). */
function numeric(f: () => number, x: Float32Array, i: number, eps = 1e-2): number {
  const old = x[i];
  x[i] = old + eps; const a = f();
  x[i] = old - eps; const b = f();
  x[i] = old;
  return (a - b) / (2 * eps);
}
/** True when the one-sided slopes at x[i] differ: a ReLU kink lies within the step. */
function onKink(f: () => number, x: Float32Array, i: number, eps = 5e-3): boolean {
  const old = x[i], f0 = f();
  x[i] = old + eps; const fp = f();
  x[i] = old - eps; const fm = f();
  x[i] = old;
  return !close((fp - f0) / eps, (f0 - fm) / eps, 0.2, 2e-3);
}
const close = (a: number, b: number, rel = 0.05, abs = 2e-3) => Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b));

describe('gradients match finite differences', () => {
  const B = 6, K = 3, U = 3;
  const rng = new Rng(3);
  const mk = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const inputs = () => [tf.tensor2d(mk(B * 5), [B, 5]), tf.tensor2d(mk(B * 4), [B, 4])];
  const xs = inputs();
  const y = tf.tensor2d(Float32Array.from({ length: B * K }, () => rng.next()), [B, K]);
  const lm = tf.tensor2d([1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0], [B, K]);
  const mask = tf.tensor2d([1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1], [B, 2]);
  const known = tf.ones([B, 1]) as tf.Tensor2D;
  const user = Int32Array.from([0, 1, 0, 2, 1, 0]);

  for (const pers of ['macro-micro', 'adapter', 'ffnn'] as const) {
    it(`per-user rows (${pers}): scattered batch gradients = ∂L/∂(user table)`, () => {
      const cfg = makeConfig({ model: { width: 8, heads: 2, personalization: { name: pers, microHidden: 3, adapterBottleneck: 3, learnLambda: pers === 'macro-micro' ? 'per-user' : 'fixed' } } });
      const m = new MoodModel(cfg.model, { modalities: [{ name: 'a', dim: 5 }, { name: 'b', dim: 4 }], K, users: U }, 5);
      const lossValue = () => tf.tidy(() => { const ub = new UserBatch(user, m.tables, false); const v = m.loss(m.forward(xs as tf.Tensor2D[], mask as tf.Tensor2D, ub, known), y as tf.Tensor2D, lm as tf.Tensor2D).total.dataSync()[0]; ub.dispose(); return v; });
      const ub = new UserBatch(user, m.tables, true);
      const { grads, value } = tf.variableGrads(() => m.loss(m.forward(xs as tf.Tensor2D[], mask as tf.Tensor2D, ub, known), y as tf.Tensor2D, lm as tf.Tensor2D).total, [...ub.rows.values()]);
      let checked = 0;
      for (const [table, row] of ub.rows) {
        const g = grads[row.name].dataSync();
        // Scatter-add per user, as UserTable.step does.
        const perUser = new Float32Array(table.data.length);
        user.forEach((u, b) => { for (let j = 0; j < table.size; j++) perUser[u * table.size + j] += g[b * table.size + j]; });
        for (let t = 0; t < 6; t++) {
          const i = (t * 7919 + 13) % table.data.length;
          // Skip coordinates sitting on a ReLU kink (left and right slopes disagree).
          if (onKink(lossValue, table.data, i)) continue;
          const n1 = numeric(lossValue, table.data, i);
          expect(close(perUser[i], n1), `${table.name}[${i}]: analytic ${perUser[i]} numeric ${n1}`).toBe(true);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(6);
      tf.dispose([value, ...Object.values(grads)]); ub.dispose(); m.dispose();
    });
  }

  it('shared weights incl. DRUW fusion s_m and DRUW loss s_k', () => {
    const cfg = makeConfig({ model: { width: 8, heads: 2, fusion: { name: 'druw' }, multitask: { name: 'druw' }, personalization: { name: 'none' } } });
    const m = new MoodModel(cfg.model, { modalities: [{ name: 'a', dim: 5 }, { name: 'b', dim: 4 }], K, users: U }, 9);
    const ub = new UserBatch(user, [], false);
    const f = () => m.loss(m.forward(xs as tf.Tensor2D[], mask as tf.Tensor2D, ub, known), y as tf.Tensor2D, lm as tf.Tensor2D).total;
    const { grads, value } = tf.variableGrads(f, m.variables());
    for (const name of ['fusion.druw.s', 'multitask.druw.s', 'macro.transformer.qkv.w', 'encoder.a.1.w']) {
      const v = m.ps.get(name);
      const data = v.dataSync().slice() as Float32Array;
      const lossAt = () => tf.tidy(() => { v.assign(tf.tensor(data, v.shape)); return f().dataSync()[0]; });
      const g = grads[v.name].dataSync();
      for (let t = 0; t < Math.min(3, data.length); t++) {
        const i = (t * 31 + 1) % data.length;
        expect(close(g[i], numeric(lossAt, data, i)), `${name}[${i}]`).toBe(true);
      }
      tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
    tf.dispose([value, ...Object.values(grads)]); m.dispose();
  });

  it('masked 1 − CCC: gradient w.r.t. predictions; unlabelled entries get none', () => {
    const p = Float32Array.from({ length: B * K }, () => rng.next());
    const L = () => tf.tidy(() => { const { L, valid } = taskLosses('ccc', y as tf.Tensor2D, tf.tensor2d(p, [B, K]), lm as tf.Tensor2D); return tf.sum(tf.mul(L, valid)).dataSync()[0]; });
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => { const { L, valid } = taskLosses('ccc', y as tf.Tensor2D, x as tf.Tensor2D, lm as tf.Tensor2D); return tf.sum(tf.mul(L, valid)); })(tf.tensor2d(p, [B, K])).dataSync());
    const lmv = lm.dataSync();
    for (let i = 0; i < B * K; i++) {
      if (lmv[i] === 0) expect(Math.abs(g[i])).toBeLessThan(1e-6);
      else expect(close(g[i], numeric(L, p, i, 1e-2))).toBe(true);
    }
  });

  it('transformer encoder layer (broadcast attention, masked keys)', () => {
    const ps = new ParamStore(new Rng(2));
    const enc = encoderLayer(ps, 'e', 8, 2);
    const x = Float32Array.from({ length: 2 * 3 * 8 }, () => rng.normal());
    const valid = tf.tensor2d([1, 1, 0, 1, 0, 1], [2, 3]);
    const w = Float32Array.from({ length: 2 * 3 * 8 }, () => rng.normal());
    const f = (t: tf.Tensor) => tf.sum(tf.mul(applyEncoder(enc, t as tf.Tensor3D, valid as tf.Tensor2D), tf.tensor3d(w, [2, 3, 8])));
    const val = () => tf.tidy(() => f(tf.tensor3d(x, [2, 3, 8])).dataSync()[0]);
    const g = tf.tidy(() => tf.grad(f)(tf.tensor3d(x, [2, 3, 8])).dataSync());
    for (let i = 0; i < x.length; i += 5) expect(close(g[i], numeric(val, x, i)), `x[${i}]`).toBe(true);
    ps.dispose();
  });

  it('encoder at one token (the pooled path) = full encoder layer at that token; its gradient matches', () => {
    const ps = new ParamStore(new Rng(4));
    const enc = encoderLayer(ps, 'e', 8, 2);
    const x = Float32Array.from({ length: 3 * 4 * 8 }, () => rng.normal());
    const valid = tf.tensor2d([1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1], [3, 4]);
    const full = tf.tidy(() => tf.slice(applyEncoder(enc, tf.tensor3d(x, [3, 4, 8]), valid as tf.Tensor2D), [0, 3, 0], [3, 1, 8]).reshape([3, 8]).dataSync());
    const at = tf.tidy(() => applyEncoderAt(enc, tf.tensor3d(x, [3, 4, 8]), valid as tf.Tensor2D, 3).dataSync());
    for (let i = 0; i < full.length; i++) expect(Math.abs(full[i] - at[i])).toBeLessThan(1e-5);
    const w = Float32Array.from({ length: 3 * 8 }, () => rng.normal());
    const f = (t: tf.Tensor) => tf.sum(tf.mul(applyEncoderAt(enc, t as tf.Tensor3D, valid as tf.Tensor2D, 3), tf.tensor2d(w, [3, 8])));
    const val = () => tf.tidy(() => f(tf.tensor3d(x, [3, 4, 8])).dataSync()[0]);
    const g = tf.tidy(() => tf.grad(f)(tf.tensor3d(x, [3, 4, 8])).dataSync());
    for (let i = 0; i < x.length; i += 5) expect(close(g[i], numeric(val, x, i)), `x[${i}]`).toBe(true);
    ps.dispose();
  });
});
