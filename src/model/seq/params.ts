/**
 * Parameters of the sequence parts: named tf.Variables created from a seeded Rng so a run is
 * reproducible from one integer. AMM's initialisation (seed 002, §IV-A): every weight matrix
 * ~ U(−0.1, 0.1), every bias 0. Browser-safe (no Node APIs).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/random.js';

export class ParamStore {
  /** Weight matrices (regularised by L2) and biases (not regularised), by unique name. */
  readonly weights = new Map<string, tf.Variable>();
  readonly biases = new Map<string, tf.Variable>();

  constructor(private readonly rng: Rng, private readonly initScale = 0.1) {}

  /** A weight ~ U(−s, s) with s = initScale (0.1 in AMM). */
  weight(name: string, shape: number[]): tf.Variable {
    this.checkFree(name);
    const size = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) v[i] = this.rng.uniform(-this.initScale, this.initScale);
    const variable = tf.variable(tf.tensor(v, shape), true, this.unique(name));
    this.weights.set(name, variable);
    return variable;
  }

  /** A bias, initialised to `value` (0 in AMM). */
  bias(name: string, shape: number[], value = 0): tf.Variable {
    this.checkFree(name);
    const variable = tf.variable(tf.fill(shape, value), true, this.unique(name));
    this.biases.set(name, variable);
    return variable;
  }

  /** Every trainable variable, weights first. */
  list(): tf.Variable[] { return [...this.weights.values(), ...this.biases.values()]; }

  /** Number of scalar parameters. */
  count(): number { return this.list().reduce((s, v) => s + v.size, 0); }

  /** L2 penalty ½·Σ‖W‖² over weight matrices (biases are not penalised). */
  l2(): tf.Scalar {
    return tf.tidy(() => {
      let s: tf.Scalar = tf.scalar(0);
      for (const w of this.weights.values()) s = s.add(tf.sum(tf.square(w))) as tf.Scalar;
      return s.mul(0.5) as tf.Scalar;
    });
  }

  dispose(): void { for (const v of this.list()) v.dispose(); this.weights.clear(); this.biases.clear(); }

  private checkFree(name: string): void {
    if (this.weights.has(name) || this.biases.has(name)) throw new Error(`parameter ${name} defined twice`);
  }

  // tf variable names are global to the engine: make them unique per store.
  private static counter = 0;
  private unique(name: string): string { return `${name}#${ParamStore.counter++}`; }
}

/** y = x·W + b for x of any rank ≥ 2 (the last axis is the feature axis). */
export interface DenseParams { w: tf.Variable; b?: tf.Variable }

export function denseParams(store: ParamStore, name: string, inDim: number, outDim: number, bias = true): DenseParams {
  return { w: store.weight(`${name}.w`, [inDim, outDim]), b: bias ? store.bias(`${name}.b`, [outDim]) : undefined };
}

export function dense(p: DenseParams, x: tf.Tensor): tf.Tensor {
  const shape = x.shape as number[];
  const inDim = shape[shape.length - 1] as number;
  const outDim = p.w.shape[1] as number;
  let y = x.rank === 2 ? tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D) : tf.matMul(x.reshape([-1, inDim]) as tf.Tensor2D, p.w as tf.Tensor2D);
  if (p.b) y = y.add(p.b);
  return x.rank === 2 ? y : y.reshape([...shape.slice(0, -1), outDim]);
}
