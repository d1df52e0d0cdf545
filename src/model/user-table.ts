/**
 * Per-user parameters (the micro layers, adapters, per-user λ) without tf.gather gradients.
 *
 * tf.gather's gradient (UnsortedSegmentSum) has no wasm kernel, and a one-hot matmul over all
 * users costs a full matmul. Instead each table lives in a plain Float32Array [U × size]; for a
 * batch we copy each sample's user row into a fresh per-sample tensor W_b [B × size] (a leaf of the
 * tape), take ∂L/∂W_b from the same backward pass as the shared weights, scatter-add it back to
 * the users present in JS, and update only those rows (lazy SGD with Nesterov momentum and weight
 * decay). Cost: two B × size copies per step, independent of the number of users.
 *
 * A sample whose user is unknown (a new participant, or micro-dropout in training) gets the mean
 * row of all users in `sampleRows`; methods that have a macro-only path mask it out instead.
 */
import type { tf } from './backend.js';
import { newVariable } from './nn.js';
import type { Rng } from '../util/random.js';

export class UserTable {
  readonly size: number;
  data: Float32Array;
  momentum: Float32Array;
  constructor(
    readonly name: string,
    readonly shape: number[],
    public users: number,
    init: (rng: Rng, size: number) => Float32Array,
    rng: Rng,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.data = new Float32Array(users * this.size);
    for (let u = 0; u < users; u++) this.data.set(init(rng, this.size), u * this.size);
    this.momentum = new Float32Array(users * this.size);
  }

  /** Append a user whose row starts at `row` (default: the mean row); returns its slot. */
  addUser(row: Float32Array = this.meanRow()): number {
    const data = new Float32Array((this.users + 1) * this.size); data.set(this.data); data.set(row, this.users * this.size);
    const mom = new Float32Array((this.users + 1) * this.size); mom.set(this.momentum);
    this.data = data; this.momentum = mom;
    return this.users++;
  }

  /** Mean row over users (the fallback for an unknown user). */
  meanRow(): Float32Array {
    const m = new Float32Array(this.size);
    for (let u = 0; u < this.users; u++) for (let j = 0; j < this.size; j++) m[j] += this.data[u * this.size + j];
    for (let j = 0; j < this.size; j++) m[j] /= Math.max(1, this.users);
    return m;
  }

  /** [B × size] values: row of user[b], or the mean row where user[b] < 0. */
  sampleRows(user: Int32Array): Float32Array {
    const B = user.length, out = new Float32Array(B * this.size);
    let mean: Float32Array | null = null;
    for (let b = 0; b < B; b++) {
      const u = user[b];
      if (u >= 0 && u < this.users) out.set(this.data.subarray(u * this.size, (u + 1) * this.size), b * this.size);
      else out.set(mean ??= this.meanRow(), b * this.size);
    }
    return out;
  }

  /**
   * Lazy SGD step (PyTorch semantics restricted to the rows present):
   *   g = Σ_b∈u ∂L/∂W_b + wd·w;  v ← μv + g;  w ← w − lr·(g + μv) (Nesterov) or w − lr·v.
   */
  step(user: Int32Array, grad: Float32Array, lr: number, momentum: number, nesterov: boolean, weightDecay: number): void {
    const S = this.size, acc = new Map<number, Float32Array>();
    for (let b = 0; b < user.length; b++) {
      const u = user[b];
      if (u < 0 || u >= this.users) continue;
      let g = acc.get(u);
      if (!g) { g = new Float32Array(S); acc.set(u, g); }
      const off = b * S;
      for (let j = 0; j < S; j++) g[j] += grad[off + j];
    }
    for (const [u, g] of acc) {
      const o = u * S, w = this.data, v = this.momentum;
      for (let j = 0; j < S; j++) {
        const gj = g[j] + weightDecay * w[o + j];
        const vj = momentum * v[o + j] + gj;
        v[o + j] = vj;
        w[o + j] -= lr * (nesterov ? gj + momentum * vj : vj);
      }
    }
  }
}

let batchCounter = 0;

/**
 * The per-sample rows of every table for one batch, as leaf variables whose gradients we read.
 * Created before the forward pass so they can be listed in tf.variableGrads.
 */
export class UserBatch {
  readonly rows = new Map<UserTable, tf.Variable>();
  constructor(readonly user: Int32Array, tables: UserTable[], readonly trainable: boolean) {
    const B = user.length, id = batchCounter++;
    for (const t of tables) {
      this.rows.set(t, newVariable(t.sampleRows(user), [B, ...t.shape], trainable, `${t.name}#${id}`));
    }
  }

  /** [B × ...shape] tensor of this table's rows for the batch. */
  take(table: UserTable): tf.Tensor {
    const v = this.rows.get(table);
    if (!v) throw new Error(`user table ${table.name} not bound for this batch`);
    return v;
  }

  dispose(): void { for (const v of this.rows.values()) v.dispose(); this.rows.clear(); }
}
