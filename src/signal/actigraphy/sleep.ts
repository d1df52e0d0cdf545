/**
 * Sleep/wake from 60-s epoch activity counts (1 = sleep, 0 = wake), with the coefficients of the
 * papers in the form ActiLife applies them to ActiGraph counts:
 *
 * Cole RJ, Kripke DF, Gruen W, Mullaney DJ, Gillin JC. Automatic sleep/wake identification from
 * wrist activity. Sleep 1992;15(5):461–469 — the 1-min-epoch model
 *   D = 0.001 · (106·A₋₄ + 54·A₋₃ + 58·A₋₂ + 76·A₋₁ + 230·A₀ + 74·A₊₁ + 67·A₊₂),  sleep if D < 1,
 * with A = min(count / 100, 300) (ActiLife's scaling of ActiGraph counts).
 *
 * Sadeh A, Sharkey KM, Carskadon MA. Activity-based sleep-wake identification: an empirical test
 * of methodological issues. Sleep 1994;17(3):201–207 —
 *   PS = 7.601 − 0.065·MEAN − 1.08·NAT − 0.056·SD − 0.703·LG,
 * MEAN: mean of A over the 11 epochs t−5 … t+5; NAT: how many of them have 50 ≤ A < 100;
 * SD: sample standard deviation of A over t−5 … t; LG: ln(A₀ + 1); A = min(count, 300).
 * The paper scores sleep when PS ≥ 0 (its AMA counts); ActiLife, for ActiGraph counts, scores
 * sleep when PS > −4 — the default here, configurable.
 *
 * Edges follow ActiLife: epochs before the start and after the end count as 0. Missing epochs
 * (gaps, non-wear) inside a window count as 0 too; a missing epoch itself gets a missing score.
 */

export interface SleepAlgorithm {
  name: string;
  /** Epochs needed before and after the scored one. */
  before: number;
  after: number;
  /** Score epoch 0 of `a` (counts, a(k) for k in −before … after; 0 outside the data): 1 sleep, 0 wake. */
  score(a: (k: number) => number): number;
}

export const COLE_KRIPKE: SleepAlgorithm = {
  name: 'cole-kripke',
  before: 4,
  after: 2,
  score(a) {
    const A = (k: number) => Math.min(a(k) / 100, 300);
    const D = 0.001 * (106 * A(-4) + 54 * A(-3) + 58 * A(-2) + 76 * A(-1) + 230 * A(0) + 74 * A(1) + 67 * A(2));
    return D < 1 ? 1 : 0;
  },
};

export function sadeh(threshold = -4): SleepAlgorithm {
  return {
    name: 'sadeh',
    before: 5,
    after: 5,
    score(a) {
      const A = (k: number) => Math.min(a(k), 300);
      let sum = 0, nat = 0;
      for (let k = -5; k <= 5; k++) { const v = A(k); sum += v; if (v >= 50 && v < 100) nat++; }
      const mean = sum / 11;
      let m6 = 0;
      for (let k = -5; k <= 0; k++) m6 += A(k);
      m6 /= 6;
      let ss = 0;
      for (let k = -5; k <= 0; k++) ss += (A(k) - m6) ** 2;
      const sd = Math.sqrt(ss / 5);
      const ps = 7.601 - 0.065 * mean - 1.08 * nat - 0.056 * sd - 0.703 * Math.log(A(0) + 1);
      return ps > threshold ? 1 : 0;
    },
  };
}

/** Score a whole series of 60-s epoch counts (NaN = missing → NaN). */
export function scoreSleep(counts: ArrayLike<number>, algo: SleepAlgorithm): Float64Array {
  const n = counts.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(counts[i])) { out[i] = NaN; continue; }
    out[i] = algo.score((k) => {
      const j = i + k;
      const v = j >= 0 && j < n ? counts[j] : 0;
      return Number.isNaN(v) ? 0 : v;
    });
  }
  return out;
}

/**
 * Streaming form of `scoreSleep`: push the epochs in order; each push returns the items whose
 * score is now known (delayed by `after` epochs), `end` the rest. Memory: before + after epochs.
 */
export class SleepScorer<T> {
  private readonly hist: number[] = [];   // counts of the last `before` released epochs
  private readonly queue: { item: T; count: number }[] = [];

  constructor(private readonly algo: SleepAlgorithm, private readonly set: (item: T, sleep: number) => void) {}

  push(item: T, count: number): T[] {
    this.queue.push({ item, count });
    return this.queue.length > this.algo.after ? [this.release()] : [];
  }

  end(): T[] {
    const out: T[] = [];
    while (this.queue.length) out.push(this.release());
    return out;
  }

  private release(): T {
    const { item, count } = this.queue[0];
    const h = this.hist, q = this.queue, B = this.algo.before;
    const value = (k: number): number => {
      const v = k < 0 ? (h.length + k >= 0 ? h[h.length + k] : 0) : (k < q.length ? q[k].count : 0);
      return Number.isNaN(v) ? 0 : v;
    };
    this.set(item, Number.isNaN(count) ? NaN : this.algo.score(value));
    q.shift();
    h.push(count);
    if (h.length > B) h.shift();
    return item;
  }
}
