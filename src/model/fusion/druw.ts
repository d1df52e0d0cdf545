/**
 * DRUW fusion (MM, "Dynamic Restrained Uncertainty Weighting" applied to modalities):
 *   fused = Σ_m m_m · (c / s_m²) · h_m,
 * with one learnable s_m per modality, initialised so every weight c/s_m² starts at 1, s_m² guarded
 * by ε. The paper's restraint terms are scalars, so they go to the loss once per step (SPEC §2):
 *   R = Σ_m log(1 + s_m²) + |φ − Σ_m |s_m||.
 */
import { tf } from '../backend.js';
import { constInit, type T2 } from '../nn.js';
import type { FusionMethod } from './types.js';

export const druw: FusionMethod = {
  tfjs: ({ ps, M, d, opts }) => {
    const c = opts.c ?? 1 / M;
    const s = ps.add('fusion.druw.s', [M], constInit(Math.sqrt(c))); // c/s² = 1 at the start
    const weights = () => tf.div(c, tf.add(tf.square(s), opts.eps));
    return {
      outDim: d,
      apply: (h, mask) => tf.sum(tf.mul(h, tf.expandDims(tf.mul(mask, weights()), 2)), 1) as T2,
      regularizer: () => tf.mul(tf.add(tf.sum(tf.log1p(tf.square(s))), tf.abs(tf.sub(opts.phi, tf.sum(tf.abs(s))))), opts.restraintWeight) as import('@tensorflow/tfjs').Scalar,
      report: () => ({ modalityWeights: Array.from(weights().dataSync()), s: Array.from(s.dataSync()) }),
    };
  },
  plain: ({ w, M, d, opts }) => {
    const s = w.get('fusion.druw.s'), c = opts.c ?? 1 / M;
    return (h, mask) => {
      const out = new Float32Array(d);
      for (let m = 0; m < M; m++) {
        const wm = mask[m] * (c / (s[m] * s[m] + opts.eps));
        if (wm === 0) continue;
        for (let i = 0; i < d; i++) out[i] += wm * h[m][i];
      }
      return out;
    };
  },
};
