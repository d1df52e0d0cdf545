/**
 * The macro (shared) emotional space of MM: an "emotion FFNN" on the fused vector, then one
 * transformer encoder layer over a short token sequence — the M encoded modality vectors and the
 * fused vector, each with a learned token-type embedding — pooled at the fused token to E_macro.
 * Missing modalities are masked out of the attention.
 */
import { tf } from './backend.js';
import {
  applyDense, applyEncoderAt, applyFfnn2, dense, encoderLayer, ffnn2, plainApplyEncoder, plainApplyFfnn2, plainDense, plainEncoderLayer, plainFfnn2, uniformInit,
  type Dense, type Encoder, type Ffnn2, type ParamStore, type PlainParams, type T2, type T3,
} from './nn.js';

interface MacroOptions { fusedDim: number; d: number; M: number; heads: number; emotionFfnn: boolean; transformer: boolean }

export interface MacroSpace { emotion: Ffnn2 | null; project: Dense | null; encoder: Encoder | null; typeEmb: tf.Variable | null; M: number; d: number }

export function macroSpace(ps: ParamStore, o: MacroOptions): MacroSpace {
  return {
    emotion: o.emotionFfnn ? ffnn2(ps, 'macro.emotion', o.fusedDim, o.d, o.d) : null,
    project: o.emotionFfnn ? null : dense(ps, 'macro.project', o.fusedDim, o.d),
    encoder: o.transformer ? encoderLayer(ps, 'macro.transformer', o.d, o.heads) : null,
    typeEmb: o.transformer ? ps.add('macro.typeEmb', [o.M + 1, o.d], uniformInit(0.1)) : null,
    M: o.M, d: o.d,
  };
}

/** E_macro [B, d] from the fused vector [B, fusedDim] and the modality tokens H [B, M, d]. */
export function applyMacro(m: MacroSpace, fused: T2, h: T3, mask: T2): T2 {
  const e = m.emotion ? applyFfnn2(m.emotion, fused, 'linear') : applyDense(m.project!, fused);
  if (!m.encoder) return e;
  const B = fused.shape[0];
  const tokens = tf.add(tf.concat([h, tf.expandDims(e, 1)], 1), m.typeEmb!) as T3; // [B, M+1, d]
  const valid = tf.concat([mask, tf.ones([B, 1])], 1) as T2;
  return applyEncoderAt(m.encoder, tokens, valid, m.M); // only the pooled (fused) token's output is used
}

/** The same on one instance's plain arrays: fused [fusedDim], h[m] [d], mask [M] → E_macro [d]. */
export function plainMacro(w: PlainParams, o: MacroOptions): (fused: Float32Array, h: Float32Array[], mask: Float32Array) => Float32Array {
  const emotion = o.emotionFfnn ? plainFfnn2(w, 'macro.emotion', o.fusedDim, o.d, o.d) : null;
  const project = o.emotionFfnn ? null : w.dense('macro.project', o.fusedDim, o.d);
  const encoder = o.transformer ? plainEncoderLayer(w, 'macro.transformer', o.d, o.heads) : null;
  const typeEmb = o.transformer ? w.get('macro.typeEmb') : null;
  return (fused, h, mask) => {
    const e = emotion ? plainApplyFfnn2(emotion, fused, 'linear') : plainDense(project!, fused);
    if (!encoder) return e;
    const { M, d } = o;
    const tokens = [...h, e].map((x, t) => {
      const out = new Float32Array(d);
      for (let i = 0; i < d; i++) out[i] = x[i] + typeEmb![t * d + i];
      return out;
    });
    const valid = Float32Array.from({ length: M + 1 }, (_, t) => (t < M ? mask[t] : 1));
    return plainApplyEncoder(encoder, tokens, valid, [M])[0]; // only the pooled (fused) token's output is used
  };
}
