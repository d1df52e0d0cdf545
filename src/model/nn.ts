/**
 * Small building blocks over TensorFlow.js ops: a parameter store with seeded initialisation,
 * dense layers (fused matmul + bias + activation), layer norm, masked softmax, one transformer
 * encoder layer over a few tokens. No tf.layers: every weight is a named tf.Variable so the
 * trainer, the checkpoint and the PyTorch reference see the same parameters.
 */
import { tf } from './backend.js';
import { Rng } from '../util/random.js';

export type T = tf.Tensor;
export type T2 = tf.Tensor2D;
export type T3 = tf.Tensor3D;

/**
 * tf.customGrad with plain tensor arguments: `f(...inputs, save)` returns the value and its
 * hand-written backward pass. Inside `f` no op is taped (one tape entry for the whole block), and the
 * backward may only use `saved` tensors, the inputs and `dy` (forward intermediates are disposed).
 */
export function customOp<A extends tf.Tensor[]>(
  f: (...args: [...A, tf.GradSaveFunc]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] },
): (...args: A) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...args: A) => tf.Tensor;
}

/** Named trainable variables, created once, initialised from a seeded Rng (deterministic). */
let storeCounter = 0;

export class ParamStore {
  /** Logical name → variable (the engine-wide variable name carries a per-store suffix). */
  readonly vars = new Map<string, tf.Variable>();
  private readonly id = storeCounter++;
  constructor(readonly rng: Rng) {}

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  /** A new variable; `init` gets the Rng and fills the values. */
  add(name: string, shape: number[], init: (rng: Rng, size: number) => Float32Array): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const v = newVariable(init(this.rng, size), shape, true, `${name}@${this.id}`);
    this.vars.set(name, v);
    return v;
  }

  /** A constant tensor owned by the model (disposed with it). */
  constant<X extends tf.Tensor>(make: () => X): X {
    const t = tf.tidy(make);
    this.constants.push(t);
    return t;
  }
  private readonly constants: tf.Tensor[] = [];

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear(); tf.dispose(this.constants); this.constants.length = 0;
  }
}

/** A variable holding `values` (the temporary tensor is released; the variable keeps the data). */
export function newVariable(values: Float32Array, shape: number[], trainable: boolean, name?: string): tf.Variable {
  const t = tf.tensor(values, shape);
  const v = tf.variable(t, trainable, name);
  t.dispose();
  return v;
}

/** Uniform(−a, a) fill. */
export function uniformInit(a: number) {
  return (rng: Rng, size: number) => { const x = new Float32Array(size); for (let i = 0; i < size; i++) x[i] = rng.uniform(-a, a); return x; };
}
export const zerosInit = (_: Rng, size: number) => new Float32Array(size);
export const constInit = (c: number) => (_: Rng, size: number) => new Float32Array(size).fill(c);
/** PyTorch's nn.Linear default: U(−1/√fan_in, 1/√fan_in) for weight and bias. */
export const linearInit = (fanIn: number) => uniformInit(1 / Math.sqrt(fanIn));

export interface Dense { w: tf.Variable; b: tf.Variable; din: number; dout: number }

export function dense(ps: ParamStore, name: string, din: number, dout: number): Dense {
  return { w: ps.add(`${name}.w`, [din, dout], linearInit(din)), b: ps.add(`${name}.b`, [dout], linearInit(din)), din, dout };
}

/** y = act(x W + b) as one fused kernel. */
export function applyDense(p: Dense, x: T2, activation: 'linear' | 'relu' = 'linear'): T2 {
  return tf.fused.matMul({ a: x, b: p.w as unknown as T2, bias: p.b, activation }) as T2;
}

/** Two-layer feed-forward net din → h → dout, ReLU after each layer (the paper's "2-layer FFNN"). */
export interface Ffnn2 { l1: Dense; l2: Dense }
export function ffnn2(ps: ParamStore, name: string, din: number, h: number, dout: number): Ffnn2 {
  return { l1: dense(ps, `${name}.1`, din, h), l2: dense(ps, `${name}.2`, h, dout) };
}
export function applyFfnn2(p: Ffnn2, x: T2, lastActivation: 'linear' | 'relu' = 'relu'): T2 {
  return applyDense(p.l2, applyDense(p.l1, x, 'relu'), lastActivation) as T2;
}

/** Layer normalisation over the last axis with learned gain and bias. */
export interface Norm { g: tf.Variable; b: tf.Variable }
export function norm(ps: ParamStore, name: string, d: number): Norm {
  return { g: ps.add(`${name}.g`, [d], constInit(1)), b: ps.add(`${name}.b`, [d], zerosInit) };
}
export function layerNorm(p: Norm, x: T, eps = 1e-5): T {
  return layerNormOp(eps)(x, p.g, p.b);
}

/**
 * y = x̂·g + b, x̂ = (x − μ)/√(σ² + ε) over the last axis, as one recorded op with the usual
 * closed-form backward: dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·g, dg = Σ dy·x̂, db = Σ dy.
 */
const layerNormOps = new Map<number, (x: T, g: T, b: T) => T>();
function layerNormOp(eps: number): (x: T, g: T, b: T) => T {
  let op = layerNormOps.get(eps);
  if (!op) {
    op = customOp((x: T, g: T, b: T, save: tf.GradSaveFunc) => {
      const { mean, variance } = tf.moments(x, -1, true);
      const r = tf.rsqrt(tf.add(variance, eps));
      const xhat = tf.mul(tf.sub(x, mean), r);
      save([xhat, r, g]);
      return {
        value: tf.add(tf.mul(xhat, g), b),
        gradFunc: (dy: T, saved: T[]) => {
          const [xh, rs, gs] = saved;
          const d = xh.shape[xh.rank - 1];
          const rows = xh.reshape([-1, d]), dy2 = dy.reshape([-1, d]);
          const dxhat = tf.mul(dy, gs);
          const dx = tf.mul(rs, tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), -1, true))));
          return [dx, tf.sum(tf.mul(dy2, rows), 0), tf.sum(dy2, 0)];
        },
      };
    });
    layerNormOps.set(eps, op);
  }
  return op;
}

/**
 * Softmax over the last axis where `valid` (broadcastable, 1 = keep) is 0 → weight 0.
 * Rows with no valid entry get all-zero weights instead of NaN.
 */
export function maskedSoftmax(scores: T, valid: T): T {
  const big = tf.mul(tf.sub(1, valid), -1e9);
  const w = tf.softmax(tf.add(scores, big));
  return tf.mul(w, valid);
}

/**
 * One transformer encoder layer (post-norm, as PyTorch's nn.TransformerEncoderLayer defaults):
 *   X ← LN(X + MHA(X)),  X ← LN(X + W₂ ReLU(W₁ X)),  feed-forward width 4d.
 * Tokens whose `keyValid` is 0 are not attended to.
 */
export interface Encoder { qkv: Dense; o: Dense; f1: Dense; f2: Dense; n1: Norm; n2: Norm; heads: number; d: number }
export function encoderLayer(ps: ParamStore, name: string, d: number, heads: number, ffWidth = 4 * d): Encoder {
  if (d % heads !== 0) throw new Error(`width ${d} is not divisible by ${heads} heads`);
  return {
    qkv: dense(ps, `${name}.qkv`, d, 3 * d), o: dense(ps, `${name}.o`, d, d),
    f1: dense(ps, `${name}.ff1`, d, ffWidth), f2: dense(ps, `${name}.ff2`, ffWidth, d),
    n1: norm(ps, `${name}.ln1`, d), n2: norm(ps, `${name}.ln2`, d), heads, d,
  };
}

/**
 * x: [B, T, d]; keyValid: [B, T] (1 = token present). Returns [B, T, d].
 * With a handful of tokens, attention is cheapest as broadcast products (no transposes, no
 * batched matmuls): s[b,i,h,j] = q[b,i,h,:]·k[b,j,h,:]/√dh, softmax over j, ctx = Σ_j a v[b,j,h,:].
 */
export function applyEncoder(p: Encoder, x: T3, keyValid: T2): T3 {
  const [B, Tn, d] = x.shape; const h = p.heads, dh = d / h;
  const flat = x.reshape([B * Tn, d]) as T2;
  const qkv = applyDense(p.qkv, flat);
  const part = (j: number) => tf.slice(qkv, [0, j * d], [B * Tn, d]);
  const q = part(0).reshape([B, Tn, h, 1, dh]);
  const k = tf.transpose(part(1).reshape([B, Tn, h, dh]), [0, 2, 1, 3]).reshape([B, 1, h, Tn, dh]);
  const v = tf.transpose(part(2).reshape([B, Tn, h, dh]), [0, 2, 1, 3]).reshape([B, 1, h, Tn, dh]);
  const scores = tf.mul(tf.sum(tf.mul(q, k), 4), 1 / Math.sqrt(dh));           // [B,i,h,j]
  const att = maskedSoftmax(scores, keyValid.reshape([B, 1, 1, Tn]));            // stable softmax over j
  const ctx = tf.sum(tf.mul(tf.expandDims(att, 4), v), 3).reshape([B * Tn, d]) as T2; // [B,i,h,dh]
  const x1 = layerNorm(p.n1, tf.add(flat, applyDense(p.o, ctx))) as T2;
  const x2 = layerNorm(p.n2, tf.add(x1, applyDense(p.f2, applyDense(p.f1, x1, 'relu'))));
  return x2.reshape([B, Tn, d]) as T3;
}

/**
 * The same encoder layer's output at ONE token t only ([B, d]) — what a model pooled at that token
 * uses. Keys and values come from all tokens; the query, the output projection, both norms and the
 * feed-forward run for token t alone (T× less of the layer's largest products), so it equals
 * applyEncoder(p, x, keyValid)[:, t] up to float rounding, with fewer kernels.
 */
export function applyEncoderAt(p: Encoder, x: T3, keyValid: T2, t: number): T2 {
  const [B, Tn, d] = x.shape; const h = p.heads, dh = d / h;
  const qkv = applyDense(p.qkv, x.reshape([B * Tn, d]) as T2).reshape([B, Tn, 3 * d]);
  const q = tf.slice(qkv, [0, t, 0], [B, 1, d]).reshape([B, h, 1, dh]);
  const k = tf.transpose(tf.slice(qkv, [0, 0, d], [B, Tn, d]).reshape([B, Tn, h, dh]), [0, 2, 1, 3]);   // [B,h,T,dh]
  const v = tf.transpose(tf.slice(qkv, [0, 0, 2 * d], [B, Tn, d]).reshape([B, Tn, h, dh]), [0, 2, 1, 3]);
  const scores = tf.mul(tf.sum(tf.mul(q, k), 3), 1 / Math.sqrt(dh));            // [B,h,T]
  const att = maskedSoftmax(scores, keyValid.reshape([B, 1, Tn]));
  const ctx = tf.sum(tf.mul(tf.expandDims(att, 3), v), 2).reshape([B, d]) as T2; // [B,h,dh]
  const xt = tf.slice(x, [0, t, 0], [B, 1, d]).reshape([B, d]) as T2;
  const x1 = layerNorm(p.n1, tf.add(xt, applyDense(p.o, ctx))) as T2;
  return layerNorm(p.n2, tf.add(x1, applyDense(p.f2, applyDense(p.f1, x1, 'relu')))) as T2;
}


// ---- The same parts on one instance's plain Float32Arrays (no tensors, no TensorFlow.js op) -------
// The server predicts one report at a time: through tfjs that is ~80 kernel dispatches, each costing
// more than its arithmetic; as loops over the trained weights it is a few hundred thousand
// multiply-adds. Every plain part must give its tfjs twin's output to float rounding
// (test/model/plain-forward.test.ts).

/** A dense layer with its weights transposed once ([dout × din]): each output is a contiguous dot product. */
export interface PlainDense { wt: Float32Array; b: Float32Array; din: number; dout: number }

export function transposed(w: Float32Array, din: number, dout: number): Float32Array {
  const t = new Float32Array(din * dout);
  for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) t[j * din + i] = w[i * dout + j];
  return t;
}

/** y = act(x W + b) for outputs [from, to) (default all), written at the same positions of `out`. */
export function plainDense(p: PlainDense, x: Float32Array, relu = false, out = new Float32Array(p.dout), from = 0, to = p.dout): Float32Array {
  const { wt, b, din } = p;
  for (let j = from; j < to; j++) {
    let s = 0;
    const o = j * din;
    for (let i = 0; i < din; i++) s += x[i] * wt[o + i];
    s += b[j];
    out[j] = relu && s < 0 ? 0 : s;
  }
  return out;
}

/** The trained variables of a model by name, as plain arrays (the plain twin of ParamStore). */
export class PlainParams {
  private readonly denses = new Map<string, PlainDense>();
  constructor(private readonly vars: Map<string, Float32Array>) {}

  has(name: string): boolean { return this.vars.has(name); }
  get(name: string): Float32Array {
    const x = this.vars.get(name);
    if (!x) throw new Error(`model weights have no variable ${name}`);
    return x;
  }

  /** The dense layer `name` (variables `name.w`, `name.b`) of `dense(ps, name, din, dout)`. */
  dense(name: string, din: number, dout: number): PlainDense {
    let p = this.denses.get(name);
    if (!p) {
      const w = this.get(`${name}.w`), b = this.get(`${name}.b`);
      if (w.length !== din * dout || b.length !== dout) throw new Error(`weights of ${name}: expected ${din}×${dout}, got ${w.length} values`);
      p = { wt: transposed(w, din, dout), b, din, dout };
      this.denses.set(name, p);
    }
    return p;
  }
}

export interface PlainFfnn2 { l1: PlainDense; l2: PlainDense }
export function plainFfnn2(w: PlainParams, name: string, din: number, h: number, dout: number): PlainFfnn2 {
  return { l1: w.dense(`${name}.1`, din, h), l2: w.dense(`${name}.2`, h, dout) };
}
export function plainApplyFfnn2(p: PlainFfnn2, x: Float32Array, lastActivation: 'linear' | 'relu' = 'relu'): Float32Array {
  return plainDense(p.l2, plainDense(p.l1, x, true), lastActivation === 'relu');
}

export function plainLayerNorm(x: Float32Array, g: Float32Array, b: Float32Array, eps = 1e-5): Float32Array {
  const d = x.length;
  let m = 0; for (let i = 0; i < d; i++) m += x[i];
  m /= d;
  let v = 0; for (let i = 0; i < d; i++) v += (x[i] - m) * (x[i] - m);
  v /= d;
  const r = 1 / Math.sqrt(v + eps);
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = (x[i] - m) * r * g[i] + b[i];
  return out;
}

/** Softmax over entries with valid = 1 (others weight 0; all-invalid → all 0), as maskedSoftmax. */
export function plainMaskedSoftmax(scores: Float64Array, valid: ArrayLike<number>): Float64Array {
  const n = scores.length, out = new Float64Array(n);
  let mx = -Infinity;
  for (let j = 0; j < n; j++) { const s = scores[j] + (1 - valid[j]) * -1e9; out[j] = s; if (s > mx) mx = s; }
  let sum = 0;
  for (let j = 0; j < n; j++) { out[j] = Math.exp(out[j] - mx); sum += out[j]; }
  for (let j = 0; j < n; j++) out[j] = (out[j] / sum) * valid[j];
  return out;
}

export interface PlainEncoder { qkv: PlainDense; o: PlainDense; f1: PlainDense; f2: PlainDense; n1: { g: Float32Array; b: Float32Array }; n2: { g: Float32Array; b: Float32Array }; heads: number; d: number }
export function plainEncoderLayer(w: PlainParams, name: string, d: number, heads: number): PlainEncoder {
  const ff = w.get(`${name}.ff1.b`).length;
  return {
    qkv: w.dense(`${name}.qkv`, d, 3 * d), o: w.dense(`${name}.o`, d, d), f1: w.dense(`${name}.ff1`, d, ff), f2: w.dense(`${name}.ff2`, ff, d),
    n1: { g: w.get(`${name}.ln1.g`), b: w.get(`${name}.ln1.b`) }, n2: { g: w.get(`${name}.ln2.g`), b: w.get(`${name}.ln2.b`) }, heads, d,
  };
}

/**
 * applyEncoder on T tokens (x[t] of width d; valid[t] = 0: not attended to), for the tokens in
 * `at` (default all): a token with weight 0 everywhere has its keys and values never computed.
 */
export function plainApplyEncoder(p: PlainEncoder, x: Float32Array[], valid: ArrayLike<number>, at: number[] = x.map((_, t) => t)): Float32Array[] {
  const { d, heads } = p, T = x.length, dh = d / heads, scale = 1 / Math.sqrt(dh);
  const queried = new Set(at);
  // [q | k | v] per token: q only for the tokens read, k and v only for the valid ones.
  const qkv = x.map((xt, t) => {
    const out = new Float32Array(3 * d);
    if (valid[t] !== 0) plainDense(p.qkv, xt, false, out, queried.has(t) ? 0 : d, 3 * d);
    else if (queried.has(t)) plainDense(p.qkv, xt, false, out, 0, d);
    return out;
  });
  return at.map((t) => {
    const ctx = new Float32Array(d);
    for (let hd = 0; hd < heads; hd++) {
      const scores = new Float64Array(T);
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let i = 0; i < dh; i++) s += qkv[t][hd * dh + i] * qkv[j][d + hd * dh + i];
        scores[j] = s * scale;
      }
      const a = plainMaskedSoftmax(scores, valid);
      for (let j = 0; j < T; j++) { if (a[j] === 0) continue; for (let i = 0; i < dh; i++) ctx[hd * dh + i] += a[j] * qkv[j][2 * d + hd * dh + i]; }
    }
    const o = plainDense(p.o, ctx);
    for (let i = 0; i < d; i++) o[i] += x[t][i];
    const x1 = plainLayerNorm(o, p.n1.g, p.n1.b);
    const f2 = plainDense(p.f2, plainDense(p.f1, x1, true));
    for (let i = 0; i < d; i++) f2[i] += x1[i];
    return plainLayerNorm(f2, p.n2.g, p.n2.b);
  });
}
