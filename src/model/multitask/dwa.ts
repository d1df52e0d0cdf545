/**
 * Dynamic Weight Average (Liu, Johns & Davison 2019), per epoch t:
 *   r_k = L_k(t−1) / L_k(t−2),  w_k = K·exp(r_k/T) / Σ_j exp(r_j/T);  w_k = 1 for the first two epochs.
 *   L = Σ_k w_k L_k.
 */
import { tf } from '../backend.js';
import type { Weighting, WeightingFactory } from './types.js';

/** The DWA memory, shared with the DRUW loss. */
export class DwaWeights {
  history: number[][] = [];
  constructor(readonly K: number, readonly T: number) {}
  endEpoch(meanLosses: number[]): void { this.history.push(meanLosses); if (this.history.length > 2) this.history.shift(); }
  weights(): number[] {
    if (this.history.length < 2) return Array(this.K).fill(1);
    const [a, b] = this.history; // a = L(t−2), b = L(t−1)
    const e = b.map((lb, k) => Math.exp((a[k] > 0 ? lb / a[k] : 1) / this.T));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => (this.K * v) / s);
  }
}

export const dwa: WeightingFactory = ({ K, opts }) => {
  const mem = new DwaWeights(K, opts.temperature);
  const w: Weighting = {
    towers: false,
    combine: (L, valid) => tf.sum(tf.mul(tf.mul(L, valid), tf.tensor1d(mem.weights()))),
    endEpoch: (m) => mem.endEpoch(m),
    weights: () => mem.weights(),
    state: () => mem.history,
    load: (s) => { mem.history = s as number[][]; },
  };
  return w;
};
