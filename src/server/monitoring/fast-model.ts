/**
 * Inference for ONE instance without TensorFlow.js: the trained model's forward pass (SPEC §2:
 * encoders → fusion → macro space → personalisation → heads) as plain loops over Float32Arrays.
 * A single instance through this small network is a few hundred thousand multiply-adds; through
 * tfjs it is ~80 kernel dispatches, each costing more than its arithmetic. Weights are read once
 * from the model folder (weights.json / weights.bin, no tfjs needed), and must give the same
 * outputs as the tfjs model (test/server/fast-model.test.ts checks ~1e-5 on real instances).
 *
 * Supported parts (the others fall back to tfjs in predictor-model.ts):
 *   fusion: druw, concat, max, pure-weighted, attention
 *   personalisation: none, ffnn, macro-micro (λ fixed, global or per user)
 *   heads: shared linear, or per-task towers (multi-output)
 * Pure and synchronous; browser-safe apart from nothing (no I/O here).
 */
import type { ModelConfig } from '../../model/config.js';
import type { Modality, NormStats } from '../../model/inputs.js';
import type { WeightsManifest } from '../../model/serialize.js';

const SUPPORTED = {
  fusion: new Set(['druw', 'concat', 'max', 'pure-weighted', 'attention']),
  personalization: new Set(['none', 'ffnn', 'macro-micro']),
};

/** Why this config cannot run on the plain forward pass, or null when it can. */
export function unsupportedReason(c: ModelConfig): string | null {
  if (!SUPPORTED.fusion.has(c.fusion.name)) return `fusion "${c.fusion.name}"`;
  if (!SUPPORTED.personalization.has(c.personalization.name)) return `personalisation "${c.personalization.name}"`;
  if (c.history || c.modalities?.includes('history')) return 'the history modality';
  return null;
}

/** One instance's raw inputs: activity C×W (channel-major, NaN = missing) and speech features F (NaN = missing). */
export interface RawInstance {
  activity: Float32Array;
  /** Per activity channel: 1 when the whole window is present. */
  channelMask: Uint8Array;
  speech: Float32Array | null;
  speechMask: number;
}

/** A participant's personal parameters: one row per user table, and their activity standardisation. */
export interface PersonalLayer { rows: Map<string, Float32Array>; activityNorm?: [number, number][] }

/** A dense layer with its weights transposed once ([dout × din]): each output is a contiguous dot product. */
interface DenseW { wt: Float32Array; b: Float32Array; din: number; dout: number }

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function transpose(w: Float32Array, din: number, dout: number): Float32Array {
  const t = new Float32Array(din * dout);
  for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) t[j * din + i] = w[i * dout + j];
  return t;
}

/** y = act(x W + b) for outputs [from, to) (default all), written at the same positions of `out`. */
function dense(p: DenseW, x: Float32Array, relu: boolean, out = new Float32Array(p.dout), from = 0, to = p.dout): Float32Array {
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

function layerNorm(x: Float32Array, g: Float32Array, b: Float32Array, eps = 1e-5): Float32Array {
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

/** Softmax over entries with valid = 1 (others weight 0; all-invalid → all 0), as nn.maskedSoftmax. */
function maskedSoftmax(scores: Float64Array, valid: ArrayLike<number>): Float64Array {
  const n = scores.length, out = new Float64Array(n);
  let mx = -Infinity;
  for (let j = 0; j < n; j++) { const s = scores[j] + (1 - valid[j]) * -1e9; out[j] = s; if (s > mx) mx = s; }
  let sum = 0;
  for (let j = 0; j < n; j++) { out[j] = Math.exp(out[j] - mx); sum += out[j]; }
  for (let j = 0; j < n; j++) out[j] = (out[j] / sum) * valid[j];
  return out;
}

export interface FastMemberSpec {
  config: ModelConfig;
  mods: Modality[];
  K: number;
  norm: NormStats;
  participants: string[];
  manifest: WeightsManifest;
  data: Float32Array;
  /** single-task member: only output `task` is used. */
  task?: number;
}

/** One trained network (one member of a model folder) as plain arrays. */
export class FastMember {
  readonly config: ModelConfig;
  readonly mods: Modality[];
  readonly K: number;
  readonly task?: number;
  readonly norm: NormStats;
  private vars = new Map<string, Float32Array>();
  private tables = new Map<string, { size: number; users: number; data: Float32Array }>();
  private slots: Map<string, number>;
  private meanRows = new Map<string, Float32Array>();
  /** Trained users' rows as stable views (so their transposed copies are cached). */
  private slotRows = new Map<string, Float32Array>();
  private d: number;

  constructor(s: FastMemberSpec) {
    const why = unsupportedReason(s.config);
    if (why) throw new Error(`the plain forward pass does not implement ${why}`);
    this.config = s.config; this.mods = s.mods; this.K = s.K; this.task = s.task; this.norm = s.norm;
    this.d = s.config.width;
    for (const v of s.manifest.variables) {
      const size = v.shape.reduce((a, b) => a * b, 1);
      this.vars.set(v.name, s.data.subarray(v.offset, v.offset + size));
    }
    for (const t of s.manifest.tables) {
      const size = t.shape.reduce((a, b) => a * b, 1);
      this.tables.set(t.name, { size, users: t.users, data: s.data.subarray(t.offset, t.offset + size * t.users) });
    }
    this.slots = new Map(s.participants.map((p, i) => [p, i]));
  }

  private v(name: string): Float32Array {
    const x = this.vars.get(name);
    if (!x) throw new Error(`model weights have no variable ${name}`);
    return x;
  }
  private denseCache = new Map<string, DenseW>();
  private dense(name: string, din: number, dout: number): DenseW {
    let p = this.denseCache.get(name);
    if (!p) {
      const w = this.v(`${name}.w`), b = this.v(`${name}.b`);
      if (w.length !== din * dout || b.length !== dout) throw new Error(`weights of ${name}: expected ${din}×${dout}, got ${w.length} values`);
      p = { wt: transpose(w, din, dout), b, din, dout };
      this.denseCache.set(name, p);
    }
    return p;
  }

  /** Is this participant one the network was trained on? */
  trained(participantId: string): boolean { return this.slots.has(participantId); }

  /** The participant's row of a user table: trained slot, their personal layer, or the mean of the trained users. */
  private row(table: string, participantId: string, personal: PersonalLayer | undefined): Float32Array {
    const t = this.tables.get(table);
    if (!t) throw new Error(`model weights have no user table ${table}`);
    const own = personal?.rows.get(table);
    if (own) return own;
    const slot = this.slots.get(participantId);
    if (slot !== undefined && slot < t.users) {
      const key = `${table}#${slot}`;
      let r = this.slotRows.get(key);
      if (!r) { r = t.data.subarray(slot * t.size, (slot + 1) * t.size); this.slotRows.set(key, r); }
      return r;
    }
    let m = this.meanRows.get(table);
    if (!m) {
      m = new Float32Array(t.size);
      for (let u = 0; u < t.users; u++) for (let j = 0; j < t.size; j++) m[j] += t.data[u * t.size + j];
      for (let j = 0; j < t.size; j++) m[j] /= Math.max(1, t.users);
      this.meanRows.set(table, m);
    }
    return m;
  }

  /** Standardised input of each modality (as inputs.modalityValues) and the modality mask. */
  private inputs(x: RawInstance, participantId: string, personal: PersonalLayer | undefined): { vals: Float32Array[]; mask: Float32Array } {
    const st = this.norm;
    const W = this.mods.find((m) => m.channel >= 0)?.dim ?? 0;
    const actNorm = personal?.activityNorm ?? st.activity[participantId] ?? st.activityPooled;
    const mask = new Float32Array(this.mods.length);
    const vals = this.mods.map((m, j) => {
      const out = new Float32Array(m.dim);
      if (m.channel >= 0) {
        mask[j] = x.channelMask[m.channel];
        const [mu, sd] = actNorm[m.channel];
        const log = st.activityTransform === 'log1p';
        for (let t = 0; t < W; t++) {
          const raw = x.activity[m.channel * W + t];
          const v = Number.isNaN(raw) || (raw < 0 && log) ? NaN : log ? Math.log1p(raw) : raw;
          out[t] = Number.isNaN(v) ? 0 : (v - mu) / sd;
        }
      } else {
        mask[j] = x.speech ? x.speechMask : 0;
        if (x.speech) for (let f = 0; f < m.dim; f++) {
          const v = x.speech[f];
          out[f] = Number.isNaN(v) ? 0 : (v - st.speech[f][0]) / st.speech[f][1];
        }
      }
      return out;
    });
    return { vals, mask };
  }

  /** ŷ [K] on the [0,1] label scale for one instance of `participantId`. */
  forward(x: RawInstance, participantId: string, personal?: PersonalLayer): Float32Array {
    const c = this.config, d = this.d, M = this.mods.length;
    const known = personal !== undefined || this.slots.has(participantId);
    const { vals, mask } = this.inputs(x, participantId, personal);
    // Encoders: 2-layer FFNN, ReLU after both layers.
    const h = this.mods.map((m, j) => {
      // A masked modality's vector never reaches the output in the supported fusions (weight 0,
      // attention 0, −10⁴ in max), so its encoder is skipped.
      if (mask[j] === 0) return new Float32Array(d);
      const h1 = dense(this.dense(`encoder.${m.name}.1`, m.dim, d), vals[j], true);
      return dense(this.dense(`encoder.${m.name}.2`, d, d), h1, true);
    });
    const fused = this.fuse(h, mask);
    const p = this.personalise(fused, h, mask, participantId, personal, known);
    // Heads (residual to the person-mean anchor when the model has one: own row, or the shared one).
    const K = this.K, y = new Float32Array(K);
    const off = c.anchor === 'person-mean' ? (known ? this.row('user.anchor', participantId, personal) : this.v('anchor.global')) : null;
    if (this.vars.has('heads.w')) {
      const z = dense(this.dense('heads', d, K), p, false);
      for (let k = 0; k < K; k++) y[k] = sigmoid(z[k] + (off ? off[k] : 0));
    } else {
      const hh = this.v('heads.tower2.w').length / K;
      const z = dense(this.dense('heads.tower1', d, K * hh), p, true);
      const w2 = this.v('heads.tower2.w'), b2 = this.v('heads.tower2.b');
      for (let k = 0; k < K; k++) {
        let s = b2[k];
        for (let j = 0; j < hh; j++) s += z[k * hh + j] * w2[k * hh + j];
        y[k] = sigmoid(s + (off ? off[k] : 0));
      }
    }
    return y;
  }

  private fuse(h: Float32Array[], mask: Float32Array): Float32Array {
    const f = this.config.fusion, d = this.d, M = h.length;
    switch (f.name) {
      case 'druw': {
        const s = this.v('fusion.druw.s'), cc = f.c ?? 1 / M, out = new Float32Array(d);
        for (let m = 0; m < M; m++) {
          const w = mask[m] * (cc / (s[m] * s[m] + f.eps));
          if (w === 0) continue;
          for (let i = 0; i < d; i++) out[i] += w * h[m][i];
        }
        return out;
      }
      case 'concat': {
        const out = new Float32Array(M * d);
        for (let m = 0; m < M; m++) for (let i = 0; i < d; i++) out[m * d + i] = h[m][i] * mask[m];
        return out;
      }
      case 'max': {
        const out = new Float32Array(d).fill(-Infinity);
        let any = 0;
        for (let m = 0; m < M; m++) {
          any = Math.max(any, mask[m]);
          for (let i = 0; i < d; i++) out[i] = Math.max(out[i], h[m][i] * mask[m] + (mask[m] - 1) * 1e4);
        }
        for (let i = 0; i < d; i++) out[i] *= any;
        return out;
      }
      case 'pure-weighted': {
        const w = f.weights ?? Array(M).fill(1 / M), out = new Float32Array(d);
        let den = 0;
        for (let m = 0; m < M; m++) den += mask[m] * w[m];
        den = Math.max(den, 1e-6);
        for (let m = 0; m < M; m++) { const wm = (mask[m] * w[m]) / den; for (let i = 0; i < d; i++) out[i] += h[m][i] * wm; }
        return out;
      }
      case 'attention': {
        const proj = this.dense('fusion.att', d, d), v = this.v('fusion.att.v');
        const scores = new Float64Array(M);
        for (let m = 0; m < M; m++) {
          const e = dense(proj, h[m], false);
          let s = 0;
          for (let i = 0; i < d; i++) s += Math.tanh(e[i]) * v[i];
          scores[m] = s;
        }
        const a = maskedSoftmax(scores, mask), out = new Float32Array(d);
        for (let m = 0; m < M; m++) for (let i = 0; i < d; i++) out[i] += a[m] * h[m][i];
        return out;
      }
      default: throw new Error(`fusion ${f.name} not supported`);
    }
  }

  /** E_macro: emotion FFNN (linear output), then (optionally) the transformer layer read at the fused token. */
  private macro(fused: Float32Array, h: Float32Array[], mask: Float32Array, transformer: boolean): Float32Array {
    const d = this.d, M = h.length;
    const e1 = dense(this.dense('macro.emotion.1', fused.length, d), fused, true);
    const e = dense(this.dense('macro.emotion.2', d, d), e1, false);
    if (!transformer) return e;
    const typeEmb = this.v('macro.typeEmb');
    const T = M + 1, heads = this.config.heads, dh = d / heads;
    const tokens = Array.from({ length: T }, (_, t) => {
      const src = t < M ? h[t] : e, out = new Float32Array(d);
      for (let i = 0; i < d; i++) out[i] = src[i] + typeEmb[t * d + i];
      return out;
    });
    const valid = Float32Array.from({ length: T }, (_, t) => (t < M ? mask[t] : 1));
    // Only the fused token's output is read: its query against every token's key and value.
    const qkv = this.dense('macro.transformer.qkv', d, 3 * d);
    // q only for the fused token; k and v (outputs d … 3d) for every token.
    // A masked token gets attention weight exactly 0: its key and value are never read.
    const kv = tokens.map((x, t) => (valid[t] === 0 ? new Float32Array(3 * d) : dense(qkv, x, false, new Float32Array(3 * d), t === M ? 0 : d, 3 * d)));
    const q = kv[M]; // qkv of the fused token: [q | k | v]
    const ctx = new Float32Array(d), scale = 1 / Math.sqrt(dh);
    for (let hd = 0; hd < heads; hd++) {
      const scores = new Float64Array(T);
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let i = 0; i < dh; i++) s += q[hd * dh + i] * kv[j][d + hd * dh + i];
        scores[j] = s * scale;
      }
      const a = maskedSoftmax(scores, valid);
      for (let j = 0; j < T; j++) { if (a[j] === 0) continue; for (let i = 0; i < dh; i++) ctx[hd * dh + i] += a[j] * kv[j][2 * d + hd * dh + i]; }
    }
    const o = dense(this.dense('macro.transformer.o', d, d), ctx, false);
    const r1 = new Float32Array(d);
    for (let i = 0; i < d; i++) r1[i] = tokens[M][i] + o[i];
    const x1 = layerNorm(r1, this.v('macro.transformer.ln1.g'), this.v('macro.transformer.ln1.b'));
    const ffw = this.v('macro.transformer.ff1.b').length;
    const f1 = dense(this.dense('macro.transformer.ff1', d, ffw), x1, true);
    const f2 = dense(this.dense('macro.transformer.ff2', ffw, d), f1, false);
    for (let i = 0; i < d; i++) f2[i] += x1[i];
    return layerNorm(f2, this.v('macro.transformer.ln2.g'), this.v('macro.transformer.ln2.b'));
  }

  /** Transposed copies of per-user weight rows, kept as long as the row itself (a refit gives a new row). */
  private tcache = new WeakMap<Float32Array, Float32Array>();
  private transposed(w: Float32Array, din: number, dout: number): Float32Array {
    let t = this.tcache.get(w);
    if (!t) { t = transpose(w, din, dout); this.tcache.set(w, t); }
    return t;
  }

  /** The per-user FFNN d → h → d of tables `${name}.w1/b1/w2/b2`. */
  private userFfnn(name: string, x: Float32Array, participantId: string, personal: PersonalLayer | undefined): Float32Array {
    const d = this.d;
    const b1 = this.row(`${name}.b1`, participantId, personal), hh = b1.length;
    const hid = dense({ wt: this.transposed(this.row(`${name}.w1`, participantId, personal), d, hh), b: b1, din: d, dout: hh }, x, true);
    return dense({ wt: this.transposed(this.row(`${name}.w2`, participantId, personal), hh, d), b: this.row(`${name}.b2`, participantId, personal), din: hh, dout: d }, hid, false);
  }

  private personalise(fused: Float32Array, h: Float32Array[], mask: Float32Array, pid: string, personal: PersonalLayer | undefined, known: boolean): Float32Array {
    const pc = this.config.personalization;
    switch (pc.name) {
      case 'none': return this.macro(fused, h, mask, true);
      case 'ffnn': return this.userFfnn('user.ffnn', this.macro(fused, h, mask, false), pid, personal);
      case 'macro-micro': {
        const eMacro = this.macro(fused, h, mask, true);
        if (!known) return eMacro; // λ = 1 for a participant without a micro layer
        const eMicro = this.userFfnn('user.micro', eMacro, pid, personal);
        const lam = pc.learnLambda === 'global' ? sigmoid(this.v('lambda.logit')[0])
          : pc.learnLambda === 'per-user' ? sigmoid(this.row('user.lambda', pid, personal)[0]) : pc.lambda;
        const out = new Float32Array(this.d);
        for (let i = 0; i < this.d; i++) out[i] = lam * eMacro[i] + (1 - lam) * eMicro[i];
        return out;
      }
      default: throw new Error(`personalisation ${pc.name} not supported`);
    }
  }
}
