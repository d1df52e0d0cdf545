/**
 * Parameters of the sequence parts: nn.ts's ParamStore (named tf.Variables from a seeded Rng, so
 * a run is reproducible from one integer) with AMM's initialisation (seed 002, §IV-A): every
 * weight matrix ~ U(−0.1, 0.1), every bias 0, and the weights listed apart for the L2 penalty.
 * Browser-safe (no Node APIs).
 */
import { tf } from '../../model/backend.js';
import { ParamStore, constInit, uniformInit } from '../../model/nn.js';
import type { Rng } from '../../util/random.js';

export class SeqParams extends ParamStore {
  /** Weight matrices (regularised by L2) and biases (not regularised), by name. */
  readonly weights = new Map<string, tf.Variable>();
  readonly biases = new Map<string, tf.Variable>();

  constructor(rng: Rng, private readonly initScale = 0.1) { super(rng); }

  /** A weight ~ U(−s, s) with s = initScale (0.1 in AMM). */
  weight(name: string, shape: number[]): tf.Variable {
    const v = this.add(name, shape, uniformInit(this.initScale));
    this.weights.set(name, v);
    return v;
  }

  /** A bias, initialised to `value` (0 in AMM). */
  bias(name: string, shape: number[], value = 0): tf.Variable {
    const v = this.add(name, shape, constInit(value));
    this.biases.set(name, v);
    return v;
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

  override dispose(): void { super.dispose(); this.weights.clear(); this.biases.clear(); }
}

/** y = x·W (+ b) for x of any rank ≥ 2 (the last axis is the feature axis); AMM's init, optional bias. */
export interface Linear { w: tf.Variable; b?: tf.Variable }

export function linear(store: SeqParams, name: string, inDim: number, outDim: number, bias = true): Linear {
  return { w: store.weight(`${name}.w`, [inDim, outDim]), b: bias ? store.bias(`${name}.b`, [outDim]) : undefined };
}

export function applyLinear(p: Linear, x: tf.Tensor): tf.Tensor {
  const shape = x.shape as number[];
  const inDim = shape[shape.length - 1] as number;
  const outDim = p.w.shape[1] as number;
  let y = x.rank === 2 ? tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D) : tf.matMul(x.reshape([-1, inDim]) as tf.Tensor2D, p.w as tf.Tensor2D);
  if (p.b) y = y.add(p.b);
  return x.rank === 2 ? y : y.reshape([...shape.slice(0, -1), outDim]);
}
