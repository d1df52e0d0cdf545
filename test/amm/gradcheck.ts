/** Finite-difference gradient check for the sequence parts (tests only). */
import { tf } from '../../src/model/backend.js';

/**
 * Compare tf.grads of a scalar loss f(vars) with central differences
 * (f(v + εe_i) − f(v − εe_i)) / 2ε at `probes` random coordinates of every variable.
 * Returns the largest |analytic − numeric| / max(1, |analytic|) seen.
 */
export function gradCheck(vars: tf.Variable[], loss: () => tf.Scalar, probes = 6, eps = 1e-2, seed = 7): { worst: number; checked: number } {
  const { grads } = tf.variableGrads(loss, vars);
  let worst = 0, checked = 0;
  let s = seed;
  const rand = (n: number) => { s = (s * 1103515245 + 12345) % 2147483648; return s % n; };
  for (const v of vars) {
    const g = grads[v.name].dataSync();
    const base = v.dataSync().slice();
    for (let p = 0; p < Math.min(probes, v.size); p++) {
      const i = rand(v.size);
      const at = (delta: number) => {
        const w = base.slice(); w[i] += delta;
        v.assign(tf.tensor(w, v.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      const err = Math.abs(numeric - g[i]) / Math.max(1, Math.abs(g[i]));
      worst = Math.max(worst, err); checked++;
    }
  }
  for (const k of Object.keys(grads)) grads[k].dispose();
  return { worst, checked };
}

/** A fixed random tensor (deterministic, not a parameter). */
export function fixed(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; v[i] = scale * (2 * (s / 2147483648) - 1); }
  return tf.tensor(v, shape);
}
